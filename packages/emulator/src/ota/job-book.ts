import { LinkkitError } from '@linkkit/core'
import type { EmulatorClock } from '../clock.js'
import type { DeviceOta } from './device-ota.js'
import type { Firmware, OtaDeviceRef, OtaJob, OtaJobEnd, OtaJobStatus } from './types.js'

/** Statuses of a job that is not finished: the device's one ongoing job per module. */
const ONGOING: ReadonlySet<OtaJobStatus> = new Set(['pending', 'pushed', 'upgrading'])

export function isOngoing(job: OtaJob): boolean {
  return ONGOING.has(job.status)
}

type Listener = (job: OtaJob, previous: OtaJobStatus | undefined) => void

/** What `JobBook.create` needs besides the device and firmware. */
export interface JobTerms {
  srcVersion: string | undefined
  timeoutMs: number
  /** The module's version the device last informed, if any. */
  runningVersion: string | undefined
}

/**
 * Upgrade jobs and their status changes. One ongoing job per device and module, as the platform
 * allows one ongoing batch per device (docs/protocol.md §3.3).
 */
export class JobBook {
  readonly #jobs = new Map<string, OtaJob>()
  readonly #onChange: Listener
  readonly #clock: EmulatorClock
  #next = 1

  constructor(onChange: Listener, clock: EmulatorClock) {
    this.#onChange = onChange
    this.#clock = clock
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
      id: `job-${this.#next++}`,
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
    this.#onChange(job, undefined)
    return job
  }

  setStatus(job: OtaJob, status: OtaJobStatus): void {
    if (job.status === status) return
    const previous = job.status
    job.status = status
    job.updatedAt = this.#clock.now()
    this.#onChange(job, previous)
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
    if (job.status === 'pending') this.setStatus(job, 'pushed')
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
}
