import { LinkkitError } from '@linkkit/core'
import type { EventEmitter } from 'eventemitter3'
import type { OtaEvents, OtaJob, OtaJobStatus } from './types.js'

const FINAL: ReadonlySet<OtaJobStatus> = new Set(['failed', 'succeeded', 'canceled'])

/**
 * Resolves with a copy of the job once its status is one of `wanted`. Rejects with ERR_OTA_STATE
 * when it finishes with another status, ERR_REQUEST_TIMEOUT after `timeoutMs`, and ERR_CLOSED when
 * `closed` aborts.
 */
export function waitForJob(
  events: EventEmitter<OtaEvents>,
  job: OtaJob,
  wanted: ReadonlySet<OtaJobStatus>,
  timeoutMs: number,
  closed: AbortSignal,
): Promise<OtaJob> {
  return new Promise((resolve, reject) => {
    const settle = (): boolean => {
      if (wanted.has(job.status)) {
        done()
        resolve(structuredClone(job))
        return true
      }
      if (FINAL.has(job.status)) {
        done()
        reject(
          new LinkkitError('ERR_OTA_STATE', `job ${job.id} ended ${job.status}`, {
            details: { jobId: job.id, status: job.status, wanted: [...wanted] },
          }),
        )
        return true
      }
      return false
    }
    const onJob = (changed: OtaJob) => {
      if (changed.id === job.id) settle()
    }
    const onClose = () => {
      done()
      reject(new LinkkitError('ERR_CLOSED', 'the emulator closed'))
    }
    const timer = setTimeout(() => {
      done()
      reject(
        new LinkkitError(
          'ERR_REQUEST_TIMEOUT',
          `job ${job.id} is still ${job.status} after ${timeoutMs} ms`,
          {
            details: { jobId: job.id, status: job.status, wanted: [...wanted], timeoutMs },
          },
        ),
      )
    }, timeoutMs)
    timer.unref()
    const done = () => {
      clearTimeout(timer)
      events.off('ota:job', onJob)
      closed.removeEventListener('abort', onClose)
    }
    if (settle()) return
    if (closed.aborted) return onClose()
    events.on('ota:job', onJob)
    closed.addEventListener('abort', onClose, { once: true })
  })
}
