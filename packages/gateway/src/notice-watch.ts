import { type Connection, type DeviceIdentity, identityKey, Topics } from '@linkkit/core'

/**
 * Subscriptions to `/sys/{pk}/{dn}/thing/+`, where the platform sends disable / enable / delete
 * (docs/protocol.md §5), for sub-devices without a session; a logged-in one hears them through its
 * `/sys/{pk}/{dn}/#` subscription. A disabled sub-device is watched so that `enable` reaches it.
 */
export class NoticeWatch {
  readonly #gateway: Connection
  readonly #watched = new Map<string, Promise<() => Promise<void>>>()

  constructor(gateway: Connection) {
    this.#gateway = gateway
  }

  watch(sub: DeviceIdentity): Promise<void> {
    const key = identityKey(sub)
    let undo = this.#watched.get(key)
    if (undo === undefined) {
      const made = this.#gateway.subscribe(Topics.sys(sub, 'thing/+'), undefined, { qos: 1 })
      this.#watched.set(key, made)
      made.catch(() => {
        if (this.#watched.get(key) === made) this.#watched.delete(key)
      })
      undo = made
    }
    return undo.then(() => {})
  }

  async unwatch(sub: DeviceIdentity): Promise<void> {
    const key = identityKey(sub)
    const undo = this.#watched.get(key)
    this.#watched.delete(key)
    if (undo !== undefined) await (await undo)()
  }

  /** Releases every subscription (only locally while the gateway is offline). */
  async releaseAll(): Promise<void> {
    const watched = [...this.#watched.values()]
    this.#watched.clear()
    await Promise.allSettled(watched.map(async (undo) => (await undo)()))
  }
}
