import { Topics, topicMatches } from '@linkkit/core'
import { type DeviceRegistry, deviceKey } from '../registry.js'
import type { ClientSubscribedInfo, DeviceConnectionInfo, DeviceReadyInfo } from '../types.js'
import type { DeviceOtaRecords } from './device-ota.js'
import { isOngoing, type JobBook } from './job-book.js'
import type { OtaDeviceRef, OtaJob } from './types.js'

export interface OfferTriggersContext {
  registry: DeviceRegistry
  records: DeviceOtaRecords
  book: JobBook
  eligible(job: OtaJob): boolean
  /** Publishes the job's offer (errors are the sender's to log). */
  send(job: OtaJob): void
}

/**
 * Decides when a job the device has not started yet is offered again (docs/protocol.md §3.1, §3.8:
 * re-pushed when the device comes online with a pending job): once per connection, until the
 * device reports progress. The offer goes out when it can arrive:
 * - a device's own connection once it is ready (`device:ready`: a persistent session only at its
 *   CONNACK, see Connections), if it has `_ss=1` or a restored subscription covering
 *   `/ota/device/upgrade/{pk}/{dn}`;
 * - otherwise on the first SUBSCRIBE covering that topic in this connection;
 * - a sub-device at its `combine.login`, on its gateway's connection, as before any SUBSCRIBE.
 * A device that resubscribes after it got the offer in this connection does not get it again.
 */
export class OfferTriggers {
  readonly #c: OfferTriggersContext
  /** The device's `connectCount` when a job was last offered in a way that surely reached it. */
  readonly #offeredOn = new Map<string, number>()
  /** The device's `connectCount` once that connection could take offers. */
  readonly #readyOn = new Map<string, number>()

  constructor(context: OfferTriggersContext) {
    this.#c = context
  }

  /** Notes that `job` is being offered on the device's current connection. */
  reached(job: OtaJob): void {
    this.#offeredOn.set(job.id, this.#connectCount(job))
  }

  /** Whether the device is online on a connection that can take an offer now. */
  ready(device: OtaDeviceRef): boolean {
    const state = this.#c.registry.get(device.productKey, device.deviceName)
    return state?.online === true && this.#readyOn.get(this.#key(device)) === state.connectCount
  }

  readonly onReady = (info: DeviceReadyInfo): void => {
    this.#readyOn.set(this.#key(info), this.#connectCount(info))
    const listening = info.clientParams._ss === '1'
    for (const job of this.#waiting(info)) {
      const topic = Topics.otaUpgrade(job)
      if (!listening && !info.filters.some((filter) => topicMatches(filter, topic))) continue
      this.reached(job)
      this.#c.send(job)
    }
  }

  readonly onOnline = (info: DeviceConnectionInfo): void => {
    // A device's own connection waits for `device:ready`; a sub-device rides a ready gateway.
    if (info.gateway === undefined) return
    this.#readyOn.set(this.#key(info), this.#connectCount(info))
    for (const job of this.#waiting(info)) {
      if (info.clientParams._ss === '1') this.reached(job)
      this.#c.send(job)
    }
  }

  readonly onSubscribed = ({ filters }: ClientSubscribedInfo): void => {
    for (const job of this.#c.book.list()) {
      if (job.status !== 'pending' && job.status !== 'pushed') continue
      if (!this.ready(job) || this.#offeredOn.get(job.id) === this.#connectCount(job)) continue
      if (!this.#c.eligible(job)) continue
      const topic = Topics.otaUpgrade(job)
      if (!filters.some((filter) => topicMatches(filter, topic))) continue
      this.reached(job)
      this.#c.send(job)
    }
  }

  /** The device's jobs that still wait for it to take the offer. */
  #waiting(device: OtaDeviceRef): OtaJob[] {
    return this.#c.records
      .get(device)
      .ota.jobs.filter((job) => isOngoing(job) && job.status !== 'upgrading' && this.#c.eligible(job))
  }

  #connectCount(device: OtaDeviceRef): number {
    return this.#c.registry.get(device.productKey, device.deviceName)?.connectCount ?? 0
  }

  #key(device: OtaDeviceRef): string {
    return deviceKey(device.productKey, device.deviceName)
  }
}
