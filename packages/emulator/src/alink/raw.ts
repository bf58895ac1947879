import type { Logger } from 'pino'
import type { DeviceIdentity, EmulatorPublishOptions, UplinkContext } from '../types.js'
import type { ThingJournal } from './thing-journal.js'
import type { DeviceThingState, RawUpHandler } from './types.js'

/**
 * Raw (pass-through) uplinks on `thing/model/up_raw` (docs/protocol.md §2.2): kept in the device's
 * `rawUp` and answered on `up_raw_reply` with what the product's handler returns, or by default
 * with the same bytes, as a data-parsing script that echoes would.
 */
export class RawChannel {
  readonly #handlers = new Map<string, RawUpHandler>()
  readonly #publish: (topic: string, payload: Uint8Array, options?: EmulatorPublishOptions) => Promise<void>
  readonly #logger: Logger
  readonly #journal: ThingJournal

  constructor(
    publish: (topic: string, payload: Uint8Array, options?: EmulatorPublishOptions) => Promise<void>,
    logger: Logger,
    journal: ThingJournal,
  ) {
    this.#publish = publish
    this.#logger = logger
    this.#journal = journal
  }

  /** Sets the product's raw uplink handler; undefined restores the echo. */
  setHandler(productKey: string, handler: RawUpHandler | undefined): void {
    if (handler === undefined) this.#handlers.delete(productKey)
    else this.#handlers.set(productKey, handler)
  }

  async onUp(
    ctx: UplinkContext,
    device: DeviceIdentity,
    state: DeviceThingState,
    now: number,
  ): Promise<void> {
    this.#journal.raw(device, state, { payload: Uint8Array.from(ctx.payload), time: now })
    const handler = this.#handlers.get(device.productKey)
    let reply: Uint8Array | undefined = ctx.payload
    if (handler !== undefined) {
      try {
        reply = handler(Buffer.from(ctx.payload), { ...device })
      } catch (error) {
        this.#logger.error({ err: error, topic: ctx.topic }, 'raw uplink handler threw; no reply sent')
        return
      }
    }
    if (reply === undefined) return
    try {
      await this.#publish(`${ctx.topic}_reply`, reply, { qos: 0 })
    } catch (error) {
      this.#logger.warn({ err: error, topic: ctx.topic }, 'up_raw_reply could not be published')
    }
  }
}
