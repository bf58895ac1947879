import { topicMatches } from '@linkkit/core'
import type { Logger } from 'pino'
import type { UplinkContext, UplinkHandler } from './types.js'

interface Entry {
  filter: string
  handler: UplinkHandler
}

/**
 * Fans every authorized device publish out to the handlers whose topic filter matches. A handler
 * that throws or rejects is logged and cannot disturb the broker or the other handlers.
 */
export class UplinkBus {
  readonly #entries: Entry[] = []
  readonly #logger: Logger

  constructor(logger: Logger) {
    this.#logger = logger
  }

  /** Registers `handler` for uplinks matching the MQTT `filter`; returns a function removing it. */
  on(filter: string, handler: UplinkHandler): () => void {
    const entry: Entry = { filter, handler }
    this.#entries.push(entry)
    return () => {
      const at = this.#entries.indexOf(entry)
      if (at >= 0) this.#entries.splice(at, 1)
    }
  }

  readonly dispatch = (ctx: UplinkContext): void => {
    for (const { filter, handler } of [...this.#entries]) {
      if (!topicMatches(filter, ctx.topic)) continue
      try {
        Promise.resolve(handler(ctx)).catch((error: unknown) => this.#failed(error, ctx))
      } catch (error) {
        this.#failed(error, ctx)
      }
    }
  }

  #failed(error: unknown, ctx: UplinkContext): void {
    this.#logger.error({ err: error, topic: ctx.topic, clientId: ctx.clientId }, 'uplink handler failed')
  }
}
