import { LinkkitError } from '@linkkit/core'
import type { DeviceOta } from './device-ota.js'
import type { Firmware, OtaDeviceRef, OtaJob, OtaJobStatus } from './types.js'

/** Statuses of a job that is not finished: the device's one ongoing job per module. */
const ONGOING: ReadonlySet<OtaJobStatus> = new Set(['pending', 'pushed', 'upgrading'])

export function isOngoing(job: OtaJob): boolean {
  return ONGOING.has(job.status)
}

type Listener = (job: OtaJob, previous: OtaJobStatus | undefined) => void

/**
 * Upgrade jobs and their status changes. One ongoing job per device and module, as the platform
 * allows one ongoing batch per device (PROTOCOL.md §3.3).
 */
export class JobBook {
  readonly #jobs = new Map<string, OtaJob>()
  readonly #onChange: Listener
  #next = 1

  constructor(onChange: Listener) {
    this.#onChange = onChange
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
  create(device: DeviceOta, firmware: Firmware, srcVersion: string | undefined): OtaJob {
    const current = this.ongoing(device, firmware.module)
    if (current?.status === 'upgrading') {
      throw new LinkkitError('ERR_OTA_BUSY', `job ${current.id} is upgrading module ${current.module}`, {
        details: { jobId: current.id, module: current.module },
      })
    }
    const now = Date.now()
    const job: OtaJob = {
      id: `job-${this.#next++}`,
      productKey: device.productKey,
      deviceName: device.deviceName,
      module: firmware.module,
      firmwareId: firmware.id,
      version: firmware.version,
      srcVersion,
      status: 'pending',
      createdAt: now,
      updatedAt: now,
      pushCount: 0,
      lastPushedAt: undefined,
      step: undefined,
      desc: undefined,
      failure: undefined,
      replacedBy: undefined,
    }
    if (current !== undefined) {
      current.replacedBy = job.id
      this.setStatus(current, 'canceled')
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
    job.updatedAt = Date.now()
    this.#onChange(job, previous)
  }

  markPushed(job: OtaJob): void {
    job.pushCount += 1
    job.lastPushedAt = Date.now()
    job.updatedAt = job.lastPushedAt
    if (job.status === 'pending') this.setStatus(job, 'pushed')
  }

  /**
   * Applies a valid progress step (PROTOCOL.md §3.5): the first step ≥ 0 moves the job to
   * `upgrading`, a negative one fails it. Reaching 100 does not finish it: only the version
   * inform does (§3.2).
   */
  progress(job: OtaJob, step: number, desc: string): void {
    if (job.status !== 'pushed' && job.status !== 'upgrading') return
    job.step = step
    job.desc = desc
    job.updatedAt = Date.now()
    if (step < 0) {
      job.failure = { step, desc }
      this.setStatus(job, 'failed')
    } else {
      this.setStatus(job, 'upgrading')
    }
  }
}
