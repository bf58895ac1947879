import { LinkkitError, safeEmit } from '@linkkit/core'
import type { EventEmitter } from 'eventemitter3'
import type { Logger } from 'pino'
import type { EmulatorClock } from '../clock.js'
import type { StateStore, StateTable } from '../state/store.js'
import { failureThreshold, type SelectionSource, selectDevices } from './rollout-select.js'
import type { OtaRollout, RolloutOptions, RolloutStatus } from './rollout-types.js'
import type { Firmware, OtaEvents, OtaJob, PushOptions } from './types.js'

const FINAL: ReadonlySet<RolloutStatus> = new Set(['completed', 'canceled'])
const ENDED: ReadonlySet<OtaJob['status']> = new Set(['succeeded', 'failed', 'canceled'])
const DEFAULT_MAX_CONCURRENT = 10
/** How long a node waits for the driving node to apply a forwarded command (scale-out). */
const FORWARD_TIMEOUT_MS = 5000

type Action = 'pause' | 'resume' | 'cancel'

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

/**
 * Staged rollouts (`emu.ota.rollouts`): upgrade jobs for a share of a product's devices, at most
 * `maxConcurrent` under way at once, paused when failures reach a threshold; resumed or canceled
 * by the operator. The node that started a rollout drives it; with scale-out the others show it
 * and forward pause, resume and cancel to that node, and jobs end wherever their device is.
 */
export class Rollouts {
  readonly #h: RolloutHost
  readonly #rollouts = new Map<string, OtaRollout>()
  readonly #table: StateTable<OtaRollout>
  /** Jobs under way of the rollouts this node drives: job id → rollout id. */
  readonly #active = new Map<string, string>()
  readonly #filling = new Set<string>()
  readonly #again = new Set<string>()

  /** The OTA service makes one (`emu.ota.rollouts`). */
  constructor(host: RolloutHost) {
    this.#h = host
    this.#table = host.store.table('rollouts')
    this.#table.onChange((id, stored) => {
      if (stored === undefined) return
      const held = this.#rollouts.get(id)
      if (held?.node === host.store.node) return
      this.#rollouts.set(id, stored)
      this.#emit(stored, held?.status)
    })
    host.store.bus.on('rollout', (message) => this.#forwarded(message))
    host.events.on('ota:job', (job) => this.#jobChanged(job))
  }

  /**
   * Starts a rollout: selects the devices and pushes to the first `maxConcurrent` (online ones
   * first). ERR_INVALID_ARGUMENT for a bad option, an unknown firmware or an empty selection.
   */
  async start(options: RolloutOptions): Promise<OtaRollout> {
    if (this.#h.closed.aborted) throw new LinkkitError('ERR_CLOSED', 'the emulator closed')
    const firmware = this.#h.firmware(options.firmware?.id)
    if (firmware === undefined || firmware.productKey !== options.productKey) {
      throw new LinkkitError(
        'ERR_INVALID_ARGUMENT',
        `firmware ${options.firmware?.id} is not of ${options.productKey}`,
      )
    }
    const maxConcurrent = options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT
    if (!Number.isSafeInteger(maxConcurrent) || maxConcurrent < 1) {
      throw new LinkkitError('ERR_INVALID_ARGUMENT', 'maxConcurrent must be an integer of at least 1', {
        details: { field: 'maxConcurrent' },
      })
    }
    const { devices, target } = selectDevices(options, this.#h)
    const now = this.#h.clock.now()
    const rollout: OtaRollout = {
      id: this.#h.store.nextId('rollout'),
      productKey: options.productKey,
      firmwareId: firmware.id,
      version: firmware.version,
      status: 'running',
      target,
      maxConcurrent,
      failureThreshold: failureThreshold(options.pauseOnFailure, devices.length),
      failuresSinceResume: 0,
      pausedReason: undefined,
      counts: {
        total: devices.length,
        queued: devices.length,
        active: 0,
        succeeded: 0,
        failed: 0,
        canceled: 0,
      },
      queue: devices,
      jobs: {},
      srcVersion: options.srcVersion,
      timeoutMs: options.timeoutMs,
      createdAt: now,
      updatedAt: now,
      node: this.#h.store.node,
    }
    this.#rollouts.set(rollout.id, rollout)
    this.#save(rollout, undefined)
    this.#h.logger.info({ rolloutId: rollout.id, devices: devices.length }, 'rollout started')
    await this.#fill(rollout)
    return structuredClone(rollout)
  }

  /** A copy of the rollout, or undefined. */
  get(id: string): OtaRollout | undefined {
    const rollout = this.#rollouts.get(id)
    return rollout === undefined ? undefined : structuredClone(rollout)
  }

  /** Copies of the rollouts (of one product), oldest first. */
  list(filter: { productKey?: string } = {}): OtaRollout[] {
    return [...this.#rollouts.values()]
      .filter((r) => filter.productKey === undefined || r.productKey === filter.productKey)
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((r) => structuredClone(r))
  }

  /** Pauses a running rollout (upgrades under way go on). ERR_OTA_STATE unless it runs. */
  pause(id: string): Promise<OtaRollout> {
    return this.#command(id, 'pause', 'paused by the operator')
  }

  /** Resumes a paused rollout and counts failures afresh. ERR_OTA_STATE unless it is paused. */
  resume(id: string): Promise<OtaRollout> {
    return this.#command(id, 'resume', '')
  }

  /** Cancels the rollout and its jobs under way. ERR_OTA_STATE once it completed or was canceled. */
  cancel(id: string, reason = 'rollout canceled by the operator'): Promise<OtaRollout> {
    return this.#command(id, 'cancel', reason)
  }

  /**
   * Resolves with a copy once the rollout's status is one of `wanted`; rejects with ERR_OTA_STATE
   * when it ends (completed, canceled) otherwise, ERR_REQUEST_TIMEOUT after `timeoutMs`.
   */
  waitFor(
    id: string,
    wanted: RolloutStatus | readonly RolloutStatus[],
    timeoutMs = 30_000,
  ): Promise<OtaRollout> {
    const set = new Set<RolloutStatus>(typeof wanted === 'string' ? [wanted] : wanted)
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const rollout = this.#rollouts.get(id)
        if (rollout === undefined) return fail(new LinkkitError('ERR_INVALID_ARGUMENT', `no rollout ${id}`))
        if (set.has(rollout.status)) {
          done()
          resolve(structuredClone(rollout))
          return true
        }
        if (FINAL.has(rollout.status)) {
          return fail(
            new LinkkitError('ERR_OTA_STATE', `rollout ${id} ended ${rollout.status}`, {
              details: { rolloutId: id, status: rollout.status, wanted: [...set] },
            }),
          )
        }
        return false
      }
      const fail = (error: LinkkitError): true => {
        done()
        reject(error)
        return true
      }
      const onRollout = (rollout: OtaRollout) => {
        if (rollout.id === id) check()
      }
      const onClose = () => fail(new LinkkitError('ERR_CLOSED', 'the emulator closed'))
      const timer = setTimeout(() => {
        const status = this.#rollouts.get(id)?.status
        fail(
          new LinkkitError('ERR_REQUEST_TIMEOUT', `rollout ${id} is still ${status} after ${timeoutMs} ms`),
        )
      }, timeoutMs)
      timer.unref()
      const done = () => {
        clearTimeout(timer)
        this.#h.events.off('ota:rollout', onRollout)
        this.#h.closed.removeEventListener('abort', onClose)
      }
      if (check()) return
      if (this.#h.closed.aborted) return void onClose()
      this.#h.events.on('ota:rollout', onRollout)
      this.#h.closed.addEventListener('abort', onClose, { once: true })
    })
  }

  async #command(id: string, action: Action, reason: string): Promise<OtaRollout> {
    const rollout = this.#rollouts.get(id)
    if (rollout === undefined) throw new LinkkitError('ERR_INVALID_ARGUMENT', `no rollout ${id}`)
    assertAllowed(rollout, action)
    if (rollout.node === this.#h.store.node) {
      this.#apply(rollout, action, reason)
      return structuredClone(rollout)
    }
    const waiting = this.waitFor(
      id,
      action === 'pause' ? 'paused' : action === 'resume' ? 'running' : 'canceled',
      FORWARD_TIMEOUT_MS,
    )
    this.#h.store.bus.send('rollout', { id, action, reason, node: rollout.node })
    return waiting
  }

  #forwarded(message: unknown): void {
    const { id, action, reason, node } = (message ?? {}) as Record<string, unknown>
    if (node !== this.#h.store.node || typeof id !== 'string' || typeof reason !== 'string') return
    if (action !== 'pause' && action !== 'resume' && action !== 'cancel') return
    const rollout = this.#rollouts.get(id)
    if (rollout === undefined || rollout.node !== node) return
    try {
      assertAllowed(rollout, action)
      this.#apply(rollout, action, reason)
    } catch (error) {
      this.#h.logger.info({ err: error, rolloutId: id }, 'forwarded rollout command refused')
    }
  }

  #apply(rollout: OtaRollout, action: Action, reason: string): void {
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

  #jobChanged(job: OtaJob): void {
    const rolloutId = this.#active.get(job.id)
    if (rolloutId === undefined || !ENDED.has(job.status)) return
    const rollout = this.#rollouts.get(rolloutId)
    this.#active.delete(job.id)
    if (rollout === undefined) return
    rollout.counts.active -= 1
    if (job.status === 'succeeded') rollout.counts.succeeded += 1
    else if (job.status === 'canceled') rollout.counts.canceled += 1
    else this.#failed(rollout)
    this.#save(rollout, rollout.status)
    this.#refill(rollout)
  }

  #failed(rollout: OtaRollout): void {
    rollout.counts.failed += 1
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
        while (
          rollout.status === 'running' &&
          rollout.counts.active < rollout.maxConcurrent &&
          rollout.queue.length > 0
        ) {
          if (this.#h.closed.aborted) return
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
      this.#failed(rollout)
      this.#save(rollout, 'running')
    }
  }

  #completeIfDone(rollout: OtaRollout): void {
    if (FINAL.has(rollout.status) || rollout.queue.length > 0 || rollout.counts.active > 0) return
    const previous = rollout.status
    rollout.status = 'completed'
    rollout.pausedReason = undefined
    this.#save(rollout, previous)
    this.#h.logger.info({ rolloutId: rollout.id, counts: rollout.counts }, 'rollout completed')
  }

  #save(rollout: OtaRollout, previous: RolloutStatus | undefined): void {
    rollout.updatedAt = this.#h.clock.now()
    this.#table.save(rollout.id, rollout)
    this.#emit(rollout, previous)
  }

  #emit(rollout: OtaRollout, previous: RolloutStatus | undefined): void {
    safeEmit<OtaEvents, 'ota:rollout'>(
      this.#h.events,
      this.#h.logger,
      'ota:rollout',
      structuredClone(rollout),
      previous,
    )
  }
}

function assertAllowed(rollout: OtaRollout, action: Action): void {
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
