import type { OtaRollout } from './rollout-types.js'
import type { OtaJob, OtaJobStatus } from './types.js'

const ENDED: ReadonlySet<OtaJobStatus> = new Set(['succeeded', 'failed', 'canceled'])

export function hasEnded(status: OtaJobStatus): boolean {
  return ENDED.has(status)
}

type Seen = Pick<OtaJob, 'status' | 'productKey' | 'deviceName' | 'firmwareId' | 'createdAt'>

/**
 * The last status of every job this node heard of (its own, other nodes' and those loaded at
 * start), so that a node taking over a rollout (scale-out) can tell which of its jobs are still
 * under way without asking the node that drove it, which may be gone.
 */
export class JobLedger {
  readonly #jobs = new Map<string, Seen>()

  seen(job: OtaJob): void {
    const { status, productKey, deviceName, firmwareId, createdAt } = job
    this.#jobs.set(job.id, { status, productKey, deviceName, firmwareId, createdAt })
  }

  /**
   * Brings a rollout another node drove up to date: adopts the jobs that node created for devices
   * its last record still queued (so they are not pushed twice), and recounts from the jobs'
   * statuses; a device neither queued nor with a job had its push refused (a failure). Returns the
   * jobs still under way and how many failures the record did not count yet.
   */
  reconcile(rollout: OtaRollout): { ongoing: string[]; newFailures: number } {
    const recorded = new Set(Object.values(rollout.jobs))
    const queued = new Set(rollout.queue)
    for (const [id, job] of this.#jobs) {
      if (
        !recorded.has(id) &&
        queued.has(job.deviceName) &&
        job.productKey === rollout.productKey &&
        job.firmwareId === rollout.firmwareId &&
        job.createdAt >= rollout.createdAt
      ) {
        rollout.jobs[job.deviceName] = id
        queued.delete(job.deviceName)
      }
    }
    rollout.queue = rollout.queue.filter((name) => queued.has(name))
    const counts = { succeeded: 0, failed: 0, canceled: 0 }
    const ongoing: string[] = []
    for (const id of Object.values(rollout.jobs)) {
      // A job not heard of yet is under way: its changes are still on their way here.
      const status = this.#jobs.get(id)?.status ?? 'pending'
      if (status === 'succeeded' || status === 'failed' || status === 'canceled') counts[status] += 1
      else ongoing.push(id)
    }
    const total = rollout.counts.total
    counts.failed += total - rollout.queue.length - Object.keys(rollout.jobs).length
    const newFailures = Math.max(0, counts.failed - rollout.counts.failed)
    rollout.counts = { total, queued: rollout.queue.length, active: ongoing.length, ...counts }
    return { ongoing, newFailures }
  }
}
