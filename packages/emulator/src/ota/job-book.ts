import { LinkkitError } from '@linkkit/core'
import type { EmulatorClock } from '../clock.js'
import type { StateTable } from '../state/store.js'
import type { DeviceOta } from './device-ota.js'
import type { Firmware, OtaDeviceRef, OtaJob, OtaJobEnd, OtaJobStatus } from './types.js'

/** Statuses of a job that is not finished: the device's one ongoing job per module. */
const ONGOING: ReadonlySet<OtaJobStatus> = new Set(['pending', 'pushed', 'upgrading'])

export function isOngoing(job: OtaJob): boolean {
  return ONGOING.has(job.status)
}

/** A job changed status here (`remote` false) or on another node (scale-out). */
type Listener = (job: OtaJob, previous: OtaJobStatus | undefined, remote: boolean) => void

/** Where jobs are kept beyond this node, and how new ones are named. */
export interface JobStore {
  table: StateTable<OtaJob>
  nextId(): string
  /** The device's OTA record, to attach jobs other nodes created. */
  device(ref: OtaDeviceRef): DeviceOta
}

/** What `JobBook.create` needs besides the device and firmware. */
export interface JobTerms {
  srcVersion: string | undefined
  timeoutMs: number
  /** The module's version the device last informed, if any. */
  runningVersion: string | undefined
}

/**
 * Upgrade jobs and their status changes. One ongoing job per device and module, as the platform
 * allows one ongoing batch per device (docs/protocol.md §3.3). Every change goes to the state
 * store; jobs other nodes create or change come back into the same objects.
 */
export class JobBook {
  readonly #jobs = new Map<string, OtaJob>()
  readonly #onChange: Listener
  readonly #clock: EmulatorClock
  readonly #store: JobStore

  constructor(onChange: Listener, clock: EmulatorClock, store: JobStore) {
    this.#onChange = onChange
    this.#clock = clock
    this.#store = store
    store.table.onChange((id, value) => {
      if (value !== undefined) this.#adopt(id, value)
    })
  }

  /** Hands a change of `job` made outside the book's methods to the state store. */
  save(job: OtaJob): void {
    this.#store.table.save(job.id, job)
  }

  get(id: string): OtaJob | undefined {
    return this.#jobs.get(id)
  }

  list(filter: Partial<OtaDeviceRef> = {}): OtaJob[] {
    return [...this.#jobs.values()].filter(
      (job) =>
        (filter.productKey === undefined || job.productKey === filter.productKey) &&
        (filter.deviceName === undefined || job.deviceName === filter.deviceName),
    )
  }

  /** The device's unfinished job for `module`, if any. */
  ongoing(device: DeviceOta, module: string): OtaJob | undefined {
    return device.ota.jobs.find((job) => job.module === module && isOngoing(job))
  }

  /**
   * Creates a job. A job of the same module that was not started yet (pending or pushed) is
   * canceled and replaced; one the device is already upgrading makes this throw ERR_OTA_BUSY.
   */
  create(device: DeviceOta, firmware: Firmware, terms: JobTerms): OtaJob {
    const current = this.ongoing(device, firmware.module)
    if (current?.status === 'upgrading') {
      throw new LinkkitError('ERR_OTA_BUSY', `job ${current.id} is upgrading module ${current.module}`, {
        details: { jobId: current.id, module: current.module },
      })
    }
    const now = this.#clock.now()
    const job: OtaJob = {
      id: this.#store.nextId(),
      productKey: device.productKey,
      deviceName: device.deviceName,
      module: firmware.module,
      firmwareId: firmware.id,
      version: firmware.version,
      srcVersion: terms.srcVersion,
      status: 'pending',
      createdAt: now,
      updatedAt: now,
      pushCount: 0,
      lastPushedAt: undefined,
      step: undefined,
      desc: undefined,
      failure: undefined,
      replacedBy: undefined,
      timeoutMs: terms.timeoutMs,
      deadlineAt: undefined,
      sourceVersion: terms.srcVersion ?? terms.runningVersion,
      endedBy: undefined,
      reason: undefined,
    }
    if (current !== undefined) {
      current.replacedBy = job.id
      this.end(current, 'canceled', 'replaced', `replaced by ${job.id}`)
    }
    this.#jobs.set(job.id, job)
    device.ota.jobs.push(job)
    this.save(job)
    this.#onChange(job, undefined, false)
    return job
  }

  setStatus(job: OtaJob, status: OtaJobStatus): void {
    if (job.status === status) {
      this.save(job)
      return
    }
    const previous = job.status
    job.status = status
    job.updatedAt = this.#clock.now()
    this.save(job)
    this.#onChange(job, previous, false)
  }

  /** Ends an unfinished job as `failed` or `canceled`, saying what ended it and why. */
  end(job: OtaJob, status: 'failed' | 'canceled', endedBy: OtaJobEnd, reason: string): void {
    if (!isOngoing(job)) return
    job.endedBy = endedBy
    job.reason = reason
    job.deadlineAt = undefined
    this.setStatus(job, status)
  }

  markPushed(job: OtaJob): void {
    job.pushCount += 1
    job.lastPushedAt = this.#clock.now()
    job.updatedAt = job.lastPushedAt
    this.setStatus(job, job.status === 'pending' ? 'pushed' : job.status)
  }

  /**
   * Applies a valid progress step (docs/protocol.md §3.5): the first step ≥ 0 moves the job to
   * `upgrading` and starts its upgrade timeout, a negative one fails it. Reaching 100 does not
   * finish it: only the version inform does (§3.2).
   */
  progress(job: OtaJob, step: number, desc: string): void {
    if (job.status !== 'pushed' && job.status !== 'upgrading') return
    job.step = step
    job.desc = desc
    job.updatedAt = this.#clock.now()
    if (step < 0) {
      job.failure = { step, desc }
      this.end(job, 'failed', 'device', `the device reported step ${step}${desc === '' ? '' : `: ${desc}`}`)
      return
    }
    if (job.status === 'pushed') job.deadlineAt = job.updatedAt + job.timeoutMs
    this.setStatus(job, 'upgrading')
  }

  /** A job as another node stored it: a new one joins its device's list, a known one is updated in place. */
  #adopt(id: string, stored: OtaJob): void {
    const held = this.#jobs.get(id)
    if (held === undefined) {
      const job = { ...stored }
      this.#jobs.set(id, job)
      const jobs = this.#store.device(job).ota.jobs
      jobs.push(job)
      if (jobs.length > 1 && (jobs.at(-2)?.createdAt ?? 0) > job.createdAt)
        jobs.sort((a, b) => a.createdAt - b.createdAt)
      this.#onChange(job, undefined, true)
      return
    }
    const previous = held.status
    replaceFields(held, stored)
    if (previous !== held.status) this.#onChange(held, previous, true)
  }
}

/** Makes `target` equal to `source` (JSON leaves undefined fields out: they are cleared). */
function replaceFields<T extends object>(target: T, source: T): void {
  for (const key of Object.keys(target) as Array<keyof T>)
    if (!(key in source)) target[key] = undefined as T[keyof T]
  Object.assign(target, source)
}
