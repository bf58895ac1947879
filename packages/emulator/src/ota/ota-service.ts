import { LinkkitError, safeEmit } from '@linkkit/core'
import { EventEmitter } from 'eventemitter3'
import type { Logger } from 'pino'
import { type EmulatorClock, systemClock } from '../clock.js'
import type { Emulator } from '../emulator.js'
import { FirmwareServer } from '../firmware-server.js'
import type { FirmwareFileStats } from '../firmware-store.js'
import { MemoryStore, type StateStore } from '../state/store.js'
import { DeviceOtaRecords } from './device-ota.js'
import { FirmwareCatalog } from './firmware-catalog.js'
import { isOngoing, JobBook } from './job-book.js'
import { checkPush, JobOffers } from './job-offers.js'
import { JobTimeouts } from './job-timeouts.js'
import { OfferTriggers } from './offer-triggers.js'
import { OtaUplinks } from './ota-uplinks.js'
import type { OtaRollout, RolloutOptions } from './rollout-types.js'
import { Rollouts } from './rollouts.js'
import type {
  AddFirmwareOptions,
  Firmware,
  FirmwareFaultControls,
  OtaDeviceRef,
  OtaEvents,
  OtaJob,
  OtaJobStatus,
  PushOptions,
} from './types.js'
import { waitForJob } from './wait-for-job.js'

/** What the OTA service uses of the emulator. */
export type OtaHost = Pick<
  Emulator,
  'registry' | 'logger' | 'firmwareBaseUrl' | 'onUplink' | 'publish' | 'on' | 'off'
>

/** Options of the OTA service. */
export interface OtaServiceOptions {
  /** Time for job timestamps and upgrade timeouts. @default the system clock */
  clock?: EmulatorClock
  /**
   * Where firmware, jobs, versions and OTA histories are shared with the other nodes of a
   * platform on Redis; the emulator passes its own. @default a store of this process only
   */
  store?: StateStore
  /** A device's tags, for rollouts that target a tag; the emulator passes its thing state's. @default none */
  deviceTags?: (productKey: string, deviceName: string) => Record<string, string> | undefined
}

/**
 * The platform's OTA service (`emu.ota`, docs/protocol.md §3): firmware packages served by a
 * FirmwareServer under `/ota/`, upgrade jobs per device and module, pushes and re-pushes, replies
 * to `thing.ota.firmware.get` and the legacy `/ota/device/request`, progress history and version
 * informs. A job succeeds only when the device informs the target version (§3.2); it fails on a
 * negative step, on its upgrade timeout, or when the device informs neither the source nor the
 * target version, and can be canceled (§6 item 18). A job is pushed at `push()` when the device is
 * online, and re-pushed as `OfferTriggers` says.
 */
export class OtaService extends EventEmitter<OtaEvents> {
  /** The firmware file server, mounted on the emulator's HTTP server under `/ota/`. */
  readonly server = new FirmwareServer({ pathPrefix: '/ota/' })
  /** The firmware server's faults (also `emu.faults.firmware`). */
  readonly faults: FirmwareFaultControls
  /** Staged rollouts: status, pause, resume, cancel (start one with `rollout()`). */
  readonly rollouts: Rollouts
  readonly #host: OtaHost
  readonly #logger: Logger
  readonly #catalog: FirmwareCatalog
  readonly #records: DeviceOtaRecords
  readonly #book: JobBook
  readonly #triggers: OfferTriggers
  readonly #offers: JobOffers
  readonly #timeouts: JobTimeouts
  readonly #clock: EmulatorClock
  readonly #closed = new AbortController()
  readonly #cleanups: Array<() => void> = []

  constructor(host: OtaHost, options: OtaServiceOptions = {}) {
    super()
    this.#host = host
    this.#clock = options.clock ?? systemClock
    this.#logger = host.logger.child({ component: 'ota' })
    const store = options.store ?? new MemoryStore()
    this.#catalog = new FirmwareCatalog(this.server, () => host.firmwareBaseUrl, store)
    this.#records = new DeviceOtaRecords(host.registry, store)
    this.#records.follow({
      progress: (ref, entry) => this.#emit('ota:progress', ref, structuredClone(entry)),
      inform: (ref, entry) => this.#emit('ota:inform', ref, structuredClone(entry)),
    })
    this.#timeouts = new JobTimeouts(this.#clock, (job) => this.#timedOut(job))
    const jobs = {
      table: store.table<OtaJob>('jobs'),
      nextId: () => store.nextId('job'),
      device: (ref: OtaDeviceRef) => this.#records.get(ref),
    }
    this.#book = new JobBook(
      (job, previous, remote) => {
        // A node arms the upgrade timeouts of the jobs it moved to `upgrading` (its device's node).
        if (!remote || !isOngoing(job)) this.#timeouts.update(job)
        this.#emit('ota:job', structuredClone(job), previous)
        if (remote && previous === undefined) this.#offers.offerIfHeld(job, this.#triggers)
      },
      this.#clock,
      jobs,
    )
    const offers = new JobOffers({
      catalog: this.#catalog,
      book: this.#book,
      records: this.#records,
      logger: this.#logger,
      publish: (topic, payload) => host.publish(topic, payload, { qos: 1 }),
      pushed: (job, topic, payload) => this.#emit('ota:push', job, topic, payload),
    })
    this.#offers = offers
    this.rollouts = new Rollouts({
      events: this,
      firmware: (id) => this.#catalog.get(id),
      push: (push) => this.push(push),
      cancelJob: (id, reason) => {
        const job = this.#book.get(id)
        if (job !== undefined && isOngoing(job)) this.cancel(id, reason)
      },
      online: (productKey, deviceName) => host.registry.get(productKey, deviceName)?.online === true,
      deviceNames: (productKey) =>
        [...host.registry.all()].filter((d) => d.productKey === productKey).map((d) => d.deviceName),
      tags: (productKey, deviceName) => options.deviceTags?.(productKey, deviceName),
      store,
      clock: this.#clock,
      logger: this.#logger,
      closed: this.#closed.signal,
    })
    this.faults = Object.assign(this.server.faults, {
      for: (firmware: Firmware, fileName?: string) => this.server.faultsFor(this.#file(firmware, fileName)),
    })
    const uplinks = new OtaUplinks({
      records: this.#records,
      book: this.#book,
      catalog: this.#catalog,
      logger: this.#logger,
      publish: (topic, payload) => host.publish(topic, payload, { qos: 1 }),
      offer: (job) => offers.offer(job),
      eligible: (job) => offers.eligible(job),
      online: (ref) => host.registry.get(ref.productKey, ref.deviceName)?.online === true,
      emit: (event, ...args) => this.#emit(event, ...args),
    })
    this.#cleanups.push(...uplinks.mount(host))
    const triggers = new OfferTriggers({
      registry: host.registry,
      records: this.#records,
      book: this.#book,
      eligible: (job) => offers.eligible(job),
      send: (job) => offers.send(job),
    })
    this.#triggers = triggers
    host.on('device:online', triggers.onOnline)
    host.on('device:ready', triggers.onReady)
    host.on('client:subscribed', triggers.onSubscribed)
    this.#cleanups.push(
      () => host.off('device:online', triggers.onOnline),
      () => host.off('device:ready', triggers.onReady),
      () => host.off('client:subscribed', triggers.onSubscribed),
      () => this.#timeouts.close(),
    )
  }

  /** Adds a firmware package; its files are served at once. */
  async addFirmware(options: AddFirmwareOptions): Promise<Firmware> {
    this.#assertOpen()
    const firmware = this.#catalog.add(options)
    await this.#catalog.share(firmware)
    return structuredClone(firmware)
  }

  /**
   * Starts a staged rollout of `firmware` to a share of the product's devices (percent, list or
   * tag), `maxConcurrent` upgrades at a time, paused when `pauseOnFailure` upgrades failed. Follow,
   * pause, resume and cancel it through `rollouts`.
   */
  rollout(options: RolloutOptions): Promise<OtaRollout> {
    return this.rollouts.start(options)
  }

  /** A copy of the firmware with this id, or undefined. */
  firmware(id: string): Firmware | undefined {
    const firmware = this.#catalog.get(id)
    return firmware === undefined ? undefined : structuredClone(firmware)
  }

  /** Download counters of a firmware's file (`fileName` picks one of a multi-file firmware). */
  stats(firmware: Firmware, fileName?: string): FirmwareFileStats {
    return this.server.stats(this.#file(firmware, fileName))
  }

  /**
   * Creates an upgrade job and pushes it when the device is online (and runs `srcVersion`, if
   * given). A pending or pushed job of the same module is canceled and replaced; one the device is
   * upgrading makes this reject with ERR_OTA_BUSY until that job ends (succeeded, failed, timed
   * out or canceled).
   */
  async push(options: PushOptions): Promise<OtaJob> {
    this.#assertOpen()
    const { productKey, deviceName } = options
    const { firmware, timeoutMs } = checkPush(options, this.#host.registry, this.#catalog)
    const device = this.#records.get({ productKey, deviceName })
    const job = this.#book.create(device, firmware, {
      srcVersion: options.srcVersion,
      timeoutMs,
      runningVersion: device.versions[firmware.module],
    })
    if (this.#triggers.ready(job) && this.#offers.eligible(job)) {
      this.#triggers.reached(job)
      await this.#offers.offer(job)
    }
    return structuredClone(job)
  }

  /**
   * Cancels an unfinished job, as the console's "cancel upgrade" does; the device is not told
   * (the protocol has no such message), its later progress no longer counts, and a new push is
   * accepted at once. Returns the canceled job. ERR_INVALID_ARGUMENT for an unknown job,
   * ERR_OTA_STATE for one that already ended.
   */
  cancel(id: string, reason = 'canceled by the operator'): OtaJob {
    const job = this.#book.get(id)
    if (job === undefined) throw new LinkkitError('ERR_INVALID_ARGUMENT', `no OTA job ${id}`)
    if (!isOngoing(job)) {
      throw new LinkkitError('ERR_OTA_STATE', `job ${id} already ended ${job.status}`, {
        details: { jobId: id, status: job.status },
      })
    }
    this.#book.end(job, 'canceled', 'cancel', reason)
    this.#logger.info({ jobId: id, reason }, 'upgrade job canceled')
    return structuredClone(job)
  }

  /** A copy of the job with this id, or undefined. */
  job(id: string): OtaJob | undefined {
    const job = this.#book.get(id)
    return job === undefined ? undefined : structuredClone(job)
  }

  /** Copies of the jobs, optionally of one product or device, oldest first. */
  jobs(filter: Partial<OtaDeviceRef> = {}): OtaJob[] {
    return structuredClone(this.#book.list(filter))
  }

  /** Resolves once the job has (one of) `status`; see `waitForJob` for the rejections. */
  waitForJob(id: string, status: OtaJobStatus | readonly OtaJobStatus[], timeoutMs = 5000): Promise<OtaJob> {
    const job = this.#book.get(id)
    if (job === undefined) {
      return Promise.reject(new LinkkitError('ERR_INVALID_ARGUMENT', `no OTA job ${id}`))
    }
    const wanted = new Set<OtaJobStatus>(typeof status === 'string' ? [status] : status)
    return waitForJob(this, job, wanted, timeoutMs, this.#closed.signal)
  }

  /** Stops handling uplinks, rejects pending waits and closes open downloads. Idempotent. */
  async close(): Promise<void> {
    if (!this.#closed.signal.aborted) {
      this.#closed.abort()
      for (const cleanup of this.#cleanups.splice(0)) cleanup()
    }
    await this.server.close()
  }

  #timedOut(job: OtaJob): void {
    const reason = `no version ${job.version} informed within ${job.timeoutMs} ms of the first progress report`
    this.#book.end(job, 'failed', 'timeout', reason)
    this.#logger.info({ jobId: job.id }, 'upgrade job timed out')
  }

  #file(firmware: Firmware, fileName?: string): string {
    const files = this.#catalog.get(firmware.id)?.files ?? []
    const file = fileName === undefined ? files[0] : files.find((f) => f.name === fileName)
    if (file === undefined) {
      throw new LinkkitError('ERR_INVALID_ARGUMENT', `no file ${fileName ?? ''} in firmware ${firmware.id}`)
    }
    return file.fileId
  }

  /** Listeners cannot disturb the protocol handling that emits. */
  #emit<E extends keyof OtaEvents>(event: E, ...args: OtaEvents[E]): void {
    // OtaEvents lists each event's arguments as a tuple, which eventemitter3's ArgumentMap cannot index generically.
    safeEmit<OtaEvents, E>(
      this,
      this.#logger,
      event,
      ...(args as unknown as EventEmitter.EventArgs<OtaEvents, E>),
    )
  }

  #assertOpen(): void {
    if (this.#closed.signal.aborted) throw new LinkkitError('ERR_CLOSED', 'the emulator closed')
  }
}
