import { Topics, topicMatches } from '@linkkit/core'
import type { DeviceRegistry } from '../registry.js'
import type { ClientSubscribedInfo, DeviceConnectionInfo } from '../types.js'
import type { DeviceOtaRecords } from './device-ota.js'
import { isOngoing, type JobBook } from './job-book.js'
import type { OtaJob } from './types.js'

export interface OfferTriggersContext {
  registry: DeviceRegistry
  records: DeviceOtaRecords
  book: JobBook
  eligible(job: OtaJob): boolean
  /** Publishes the job's offer (errors are the sender's to log). */
  send(job: OtaJob): void
}

/**
 * Decides when a job the device has not started yet is offered again (PROTOCOL.md §3.1, §3.8:
 * re-pushed when the device comes online with a pending job). On every reconnect
 * (`device:online`) until the device reports progress; and, for a device without `_ss=1`, once
 * more on its first SUBSCRIBE covering `/ota/device/upgrade/{pk}/{dn}` in that connection, since
 * a clean-session device receives nothing before it subscribes. A persistent-session device that
 * resubscribes may therefore see the offer twice on one reconnect; the SDKs tolerate that (3.x
 * ignores a re-push while fetching, §6 item 14).
 */
export class OfferTriggers {
  readonly #c: OfferTriggersContext
  /** The device's `connectCount` when a job was last offered in a way that surely reached it. */
  readonly #offeredOn = new Map<string, number>()

  constructor(context: OfferTriggersContext) {
    this.#c = context
  }

  /** Notes that `job` is being offered on the device's current connection. */
  reached(job: OtaJob): void {
    this.#offeredOn.set(job.id, this.#c.registry.get(job.productKey, job.deviceName)?.connectCount ?? 0)
  }

  readonly onOnline = (info: DeviceConnectionInfo): void => {
    const device = this.#c.records.get(info)
    const waiting = device.ota.jobs.filter(
      (job) => isOngoing(job) && job.status !== 'upgrading' && this.#c.eligible(job),
    )
    for (const job of waiting) {
      // With `_ss=1` the emulator holds the offer until CONNECT completes, so it surely arrives;
      // without it, only a persistent session's stored subscription can receive it now.
      if (info.clientParams._ss === '1') this.reached(job)
      this.#c.send(job)
    }
  }

  readonly onSubscribed = ({ filters }: ClientSubscribedInfo): void => {
    for (const job of this.#c.book.list()) {
      if (job.status !== 'pending' && job.status !== 'pushed') continue
      const state = this.#c.registry.get(job.productKey, job.deviceName)
      if (state?.online !== true || this.#offeredOn.get(job.id) === state.connectCount) continue
      if (!this.#c.eligible(job)) continue
      const topic = Topics.otaUpgrade(job)
      if (!filters.some((filter) => topicMatches(filter, topic))) continue
      this.reached(job)
      this.#c.send(job)
    }
  }
}
