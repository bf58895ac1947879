import { describe, expect, it } from 'vitest'
import type { OtaJob, OtaRollout } from '../src/index.js'
import { JobLedger } from '../src/ota/rollout-jobs.js'

const PK = 'a1Reconcile1'

function job(id: string, deviceName: string, status: OtaJob['status'], createdAt = 2000): OtaJob {
  return { id, productKey: PK, deviceName, firmwareId: 'fw-1', status, createdAt } as OtaJob
}

/** What node A last stored: d0…d3 started (d3's push refused), d4…d6 queued. */
function record(): OtaRollout {
  return {
    id: 'rollout-a-1',
    productKey: PK,
    firmwareId: 'fw-1',
    createdAt: 1000,
    queue: ['d4', 'd5', 'd6'],
    jobs: { d0: 'job-0', d1: 'job-1', d2: 'job-2' },
    counts: { total: 7, queued: 3, active: 2, succeeded: 1, failed: 1, canceled: 0 },
  } as unknown as OtaRollout
}

describe('a node taking over a rollout recounts it from the jobs it heard of', () => {
  it('adopts the job A created but did not record, keeps what is under way, and counts the failures A did not', () => {
    const ledger = new JobLedger()
    ledger.seen(job('job-0', 'd0', 'succeeded'))
    ledger.seen(job('job-1', 'd1', 'upgrading'))
    ledger.seen(job('job-1', 'd1', 'failed')) // ended after A's last record
    // job-2 (d2) not heard of yet: its changes are still on their way.
    ledger.seen(job('job-4', 'd4', 'pushed')) // A pushed d4, then died before recording it
    ledger.seen(job('job-old', 'd5', 'failed', 500)) // an older job of d5, not of this rollout
    const rollout = record()
    const { ongoing, newFailures } = ledger.reconcile(rollout)
    expect(rollout.jobs).toEqual({ d0: 'job-0', d1: 'job-1', d2: 'job-2', d4: 'job-4' })
    expect(rollout.queue).toEqual(['d5', 'd6'])
    expect(ongoing.sort()).toEqual(['job-2', 'job-4'])
    // d1 failed and d3's push was refused: two failures, of which A counted one.
    expect(rollout.counts).toEqual({ total: 7, queued: 2, active: 2, succeeded: 1, failed: 2, canceled: 0 })
    expect(newFailures).toBe(1)
  })
})
