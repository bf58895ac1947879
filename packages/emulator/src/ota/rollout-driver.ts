import { LinkkitError, safeEmit } from '@linkkit/core'
import type { EventEmitter } from 'eventemitter3'
import type { Logger } from 'pino'
import type { EmulatorClock } from '../clock.js'
import type { StateStore, StateTable, WriteOptions } from '../state/store.js'
import { hasEnded, type JobLedger } from './rollout-jobs.js'
import type { LeaseKeeper } from './rollout-leases.js'
import type { SelectionSource } from './rollout-select.js'
import type { OtaRollout, RolloutStatus } from './rollout-types.js'
import { FINAL } from './rollout-wait.js'
import type { Firmware, OtaEvents, OtaJob, PushOptions } from './types.js'

export type Action = 'pause' | 'resume' | 'cancel'

/** What rollouts use of the OTA service and the platform. */
export interface RolloutHost extends SelectionSource {
  /** Where `ota:job` is heard and `ota:rollout` emitted. */
  events: EventEmitter<OtaEvents>
  /** The firmware with this id. */
  firmware(id: string): Firmware | undefined
  /** Creates and pushes one upgrade job. */
  push(options: PushOptions): Promise<OtaJob>
  /** Cancels a job under way. */
  cancelJob(id: string, reason: string): void
  /** Whether the device is online (on any node). */
  online(productKey: string, deviceName: string): boolean
  /** The platform's state store. */
  store: StateStore
  /** Time for timestamps. */
  clock: EmulatorClock
  /** Where rollouts log. */
  logger: Logger
  /** Aborted when the emulator closes. */
  closed: AbortSignal
}

/** What the driver shares with `Rollouts`. */
export interface DriverParts {
  /** Every rollout this node knows, as it holds it now. */
  rollouts: Map<string, OtaRollout>
  table: StateTable<OtaRollout>
  /** Scale-out only: leases, and the jobs' statuses a takeover recounts from. */
  keeper: LeaseKeeper | undefined
  ledger: JobLedger | undefined
}

/**
 * The part of `Rollouts` that drives the rollouts this node owns: starts upgrades as slots free up,
 * counts how jobs end, pauses at the failure threshold, completes, applies commands, takes over a
 * rollout whose lease another node let expire and lets go of one another node took.
 */
export class RolloutDriver {
  readonly #h: RolloutHost
  readonly #rollouts: Map<string, OtaRollout>
  readonly #table: StateTable<OtaRollout>
  readonly #keeper: LeaseKeeper | undefined
  readonly #ledger: JobLedger | undefined
  /** Jobs under way of the rollouts this node drives: job id → rollout id. */
  readonly #active = new Map<string, string>()
  readonly #filling = new Set<string>()
  readonly #again = new Set<string>()

  constructor(host: RolloutHost, parts: DriverParts) {
    this.#h = host
    this.#rollouts = parts.rollouts
    this.#table = parts.table
    this.#keeper = parts.keeper
    this.#ledger = parts.ledger
  }

  /** Stores a new rollout and starts its first upgrades. */
  async begin(rollout: OtaRollout): Promise<void> {
    // A fresh id: nobody else holds its lease.
    await this.#keeper?.hold(rollout.id)
    this.#rollouts.set(rollout.id, rollout)
    this.#save(rollout, undefined, { guard: rollout.node })
    await this.#fill(rollout)
  }

  /** Pauses, resumes or cancels a rollout this node drives (`assertAllowed` passed). */
  apply(rollout: OtaRollout, action: Action, reason: string): void {
    const previous = rollout.status
    if (action === 'pause') {
      rollout.status = 'paused'
      rollout.pausedReason = reason
    } else if (action === 'resume') {
      rollout.status = 'running'
      rollout.pausedReason = undefined
      rollout.failuresSinceResume = 0
    } else {
      rollout.status = 'canceled'
    }
    this.#save(rollout, previous)
    this.#h.logger.info({ rolloutId: rollout.id, action }, 'rollout command')
    if (action === 'cancel') {
      for (const [jobId, rolloutId] of [...this.#active]) {
        if (rolloutId === rollout.id) this.#h.cancelJob(jobId, reason)
      }
    }
    if (action === 'resume') this.#refill(rollout)
  }

  /** This node drives the rollout: its record names this node, and no newer record replaced it. */
  drives(rollout: OtaRollout): boolean {
    return rollout.node === this.#h.store.node && this.#rollouts.get(rollout.id) === rollout
  }

  /** This node holds the lease of a rollout: it renewed its own, or takes over one `node` left. */
  held(id: string, node: string): void {
    const rollout = this.#rollouts.get(id)
    if (rollout === undefined || FINAL.has(rollout.status) || rollout.node !== node) return
    if (rollout.node === this.#h.store.node) {
      this.#refill(rollout)
      return
    }
    const previous = rollout.status
    const { ongoing, newFailures } = this.#ledger?.reconcile(rollout) ?? { ongoing: [], newFailures: 0 }
    rollout.node = this.#h.store.node
    for (const jobId of ongoing) this.#active.set(jobId, id)
    for (let i = 0; i < newFailures; i++) this.#countFailure(rollout)
    this.#h.logger.warn({ rolloutId: id, from: node, counts: rollout.counts }, 'rollout taken over')
    // Written only while the stored record still names the node it was taken from.
    this.#save(rollout, previous, { guard: rollout.node, ifGuard: node })
    this.#refill(rollout)
  }

  /** Another node took over a rollout this node drove: its jobs are that node's to follow now. */
  lost(rollout: OtaRollout): void {
    for (const [jobId, rolloutId] of [...this.#active]) {
      if (rolloutId === rollout.id) this.#active.delete(jobId)
    }
    this.#h.logger.warn({ rolloutId: rollout.id }, 'rollout taken over by another node')
  }

  jobChanged(job: OtaJob): void {
    const rolloutId = this.#active.get(job.id)
    if (rolloutId === undefined || !hasEnded(job.status)) return
    const rollout = this.#rollouts.get(rolloutId)
    this.#active.delete(job.id)
    if (rollout === undefined) return
    rollout.counts.active -= 1
    if (job.status === 'succeeded') rollout.counts.succeeded += 1
    else if (job.status === 'canceled') rollout.counts.canceled += 1
    else {
      rollout.counts.failed += 1
      this.#countFailure(rollout)
    }
    this.#save(rollout, rollout.status)
    this.#refill(rollout)
  }

  /** One more failure since the last resume: at the threshold a running rollout pauses. */
  #countFailure(rollout: OtaRollout): void {
    rollout.failuresSinceResume += 1
    const threshold = rollout.failureThreshold
    if (rollout.status === 'running' && threshold !== undefined && rollout.failuresSinceResume >= threshold) {
      rollout.status = 'paused'
      rollout.pausedReason = `${rollout.failuresSinceResume} upgrades failed (threshold ${threshold})`
      this.#h.logger.warn({ rolloutId: rollout.id, reason: rollout.pausedReason }, 'rollout paused')
    }
  }

  #refill(rollout: OtaRollout): void {
    this.#fill(rollout).catch((error: unknown) =>
      this.#h.logger.warn({ err: error, rolloutId: rollout.id }, 'rollout could not start upgrades'),
    )
  }

  #mayStart(rollout: OtaRollout): boolean {
    return (
      !this.#h.closed.aborted &&
      this.drives(rollout) &&
      rollout.status === 'running' &&
      rollout.counts.active < rollout.maxConcurrent &&
      rollout.queue.length > 0
    )
  }

  /** Starts upgrades while the rollout runs and has free slots; one pass at a time per rollout. */
  async #fill(rollout: OtaRollout): Promise<void> {
    if (this.#filling.has(rollout.id)) {
      this.#again.add(rollout.id)
      return
    }
    this.#filling.add(rollout.id)
    try {
      do {
        this.#again.delete(rollout.id)
        while (this.#mayStart(rollout)) {
          // Each push first renews the lease: a node that lost it (it hung) pushes nothing more.
          if (this.#keeper !== undefined && !(await this.#keeper.hold(rollout.id))) return
          if (!this.#mayStart(rollout)) break
          await this.#startNext(rollout)
        }
        this.#completeIfDone(rollout)
      } while (this.#again.has(rollout.id))
    } finally {
      this.#filling.delete(rollout.id)
    }
  }

  async #startNext(rollout: OtaRollout): Promise<void> {
    // Online devices first: an offline one would hold a slot until it connects.
    const online = rollout.queue.findIndex((name) => this.#h.online(rollout.productKey, name))
    const [deviceName = ''] = rollout.queue.splice(Math.max(online, 0), 1)
    rollout.counts.queued -= 1
    rollout.counts.active += 1
    const firmware = this.#h.firmware(rollout.firmwareId)
    try {
      if (firmware === undefined)
        throw new LinkkitError('ERR_INVALID_ARGUMENT', `firmware ${rollout.firmwareId} is gone`)
      const job = await this.#h.push({
        productKey: rollout.productKey,
        deviceName,
        firmware,
        ...(rollout.srcVersion === undefined ? {} : { srcVersion: rollout.srcVersion }),
        ...(rollout.timeoutMs === undefined ? {} : { timeoutMs: rollout.timeoutMs }),
      })
      rollout.jobs[deviceName] = job.id
      this.#active.set(job.id, rollout.id)
      this.#save(rollout, rollout.status)
    } catch (error) {
      // A push the platform refused (the device is busy with another upgrade) counts as a failure.
      this.#h.logger.info({ err: error, rolloutId: rollout.id, deviceName }, 'rollout push refused')
      rollout.counts.active -= 1
      rollout.counts.failed += 1
      this.#countFailure(rollout)
      this.#save(rollout, 'running')
    }
  }

  #completeIfDone(rollout: OtaRollout): void {
    if (!this.drives(rollout) || FINAL.has(rollout.status)) return
    if (rollout.queue.length > 0 || rollout.counts.active > 0) return
    const previous = rollout.status
    rollout.status = 'completed'
    rollout.pausedReason = undefined
    this.#save(rollout, previous)
    this.#h.logger.info({ rolloutId: rollout.id, counts: rollout.counts }, 'rollout completed')
  }

  /** Stores the record: by default only while the stored one names this node (it drives it). */
  #save(rollout: OtaRollout, previous: RolloutStatus | undefined, write?: WriteOptions): void {
    rollout.updatedAt = this.#h.clock.now()
    this.#table.save(rollout.id, rollout, write ?? { guard: rollout.node, ifGuard: rollout.node })
    this.emit(rollout, previous)
  }

  emit(rollout: OtaRollout, previous: RolloutStatus | undefined): void {
    safeEmit<OtaEvents, 'ota:rollout'>(
      this.#h.events,
      this.#h.logger,
      'ota:rollout',
      structuredClone(rollout),
      previous,
    )
  }
}

/** ERR_OTA_STATE unless the rollout's status allows `action`. */
export function assertAllowed(rollout: OtaRollout, action: Action): void {
  const ok =
    action === 'pause'
      ? rollout.status === 'running'
      : action === 'resume'
        ? rollout.status === 'paused'
        : !FINAL.has(rollout.status)
  if (!ok) {
    throw new LinkkitError(
      'ERR_OTA_STATE',
      `rollout ${rollout.id} is ${rollout.status}: cannot ${action} it`,
      {
        details: { rolloutId: rollout.id, status: rollout.status },
      },
    )
  }
}
