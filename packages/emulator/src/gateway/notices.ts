import { LinkkitError } from '@linkkit/core'
import { readDeviceAnswer } from '../alink/envelope.js'
import { DownlinkIds } from '../alink/ids.js'
import { ReplyWaiters } from '../alink/reply-waiters.js'
import type { DeviceReply } from '../alink/types.js'
import type { EmulatorPublishOptions } from '../types.js'

export interface NoticeDeps {
  publish(topic: string, payload: string | Uint8Array, options?: EmulatorPublishOptions): Promise<void>
  timeoutMs: number
}

/**
 * Requests the platform sends to gateways (docs/protocol.md §5): topology change, permit join, "add
 * these sub-devices", and disable / enable / delete of a sub-device. Each carries a string id,
 * `version` and `method` (§6 item 4) and resolves with the gateway's `_reply`.
 */
export class GatewayNotices {
  readonly #d: NoticeDeps
  readonly #waiters = new ReplyWaiters()
  readonly #ids = new DownlinkIds()

  constructor(deps: NoticeDeps) {
    this.#d = deps
  }

  /** Settles the notice a gateway's reply answers; false when none waits on `topic`. */
  settle(topic: string, payload: Buffer): boolean {
    return this.#waiters.settle(topic, payload)
  }

  /**
   * Publishes the notice and resolves with the reply. `afterPublish` runs once the broker has
   * routed the notice, before the reply is awaited (a deletion drops the topology only then).
   */
  async send(
    topic: string,
    method: string,
    params: unknown,
    afterPublish?: () => void,
    timeoutMs = this.#d.timeoutMs,
  ): Promise<DeviceReply> {
    const closed = this.#waiters.closed
    if (closed !== undefined) throw closed
    const id = this.#ids.next()
    const waiting = this.#waiters.wait(`${topic}_reply`, id, timeoutMs)
    try {
      await this.#d.publish(topic, JSON.stringify({ id, version: '1.0', params, method }), { qos: 0 })
    } catch (error) {
      waiting.cancel()
      throw error
    }
    afterPublish?.()
    const { code, data, message } = readDeviceAnswer(await waiting.reply, `${topic}_reply`)
    return message === undefined ? { id, code, data } : { id, code, data, message }
  }

  close(): void {
    this.#waiters.rejectAll(new LinkkitError('ERR_CLOSED', 'the emulator closed'))
  }
}
