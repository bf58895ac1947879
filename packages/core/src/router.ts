import { topicMatches } from './topics.js'

/** Handles one routed message; a rejection or throw is reported, never breaks the session. */
export type MessageHandler = (topic: string, payload: Buffer) => void | Promise<void>

interface Route {
  filter: string
  handler: MessageHandler
}

/**
 * Local dispatch of inbound messages to handlers by MQTT filter (`+`, `#`). Several routes may
 * match one topic; each is called. A handler that throws or rejects is reported to `onError`,
 * never to the MQTT client, so a bad handler cannot break the session.
 */
export class TopicRouter {
  readonly #routes: Route[] = []
  readonly #onError: (error: unknown, topic: string) => void

  constructor(onError: (error: unknown, topic: string) => void) {
    this.#onError = onError
  }

  /** Routes messages on topics matching `filter` to `handler`; returns a function removing the route. */
  add(filter: string, handler: MessageHandler): () => void {
    const route = { filter, handler }
    this.#routes.push(route)
    return () => {
      const i = this.#routes.indexOf(route)
      if (i >= 0) this.#routes.splice(i, 1)
    }
  }

  /** Calls every matching handler; returns how many matched. */
  dispatch(topic: string, payload: Buffer): number {
    let matched = 0
    for (const route of [...this.#routes]) {
      if (!topicMatches(route.filter, topic)) continue
      matched++
      try {
        const result = route.handler(topic, payload)
        if (result instanceof Promise) result.catch((error: unknown) => this.#onError(error, topic))
      } catch (error) {
        this.#onError(error, topic)
      }
    }
    return matched
  }
}
