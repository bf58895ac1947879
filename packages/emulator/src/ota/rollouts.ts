import { LinkkitError } from '@linkkit/core'
import { type Action, assertAllowed, RolloutDriver, type RolloutHost } from './rollout-driver.js'
import { JobLedger } from './rollout-jobs.js'
import { LeaseKeeper } from './rollout-leases.js'
import { failureThreshold, selectDevices } from './rollout-select.js'
import type { OtaRollout, RolloutOptions, RolloutStatus } from './rollout-types.js'
import { FINAL, waitForRollout } from './rollout-wait.js'

export type { RolloutHost } from './rollout-driver.js'

const DEFAULT_MAX_CONCURRENT = 10
/** How long a node waits for the driving node to apply a forwarded command (scale-out). */
const FORWARD_TIMEOUT_MS = 5000

/**
 * Staged rollouts (`emu.ota.rollouts`): upgrade jobs for a share of a product's devices, at most
 * `maxConcurrent` under way at once, paused when failures reach a threshold; resumed or canceled
 * by the operator. One node drives a rollout (`RolloutDriver`), the one that started it; with
 * scale-out the others show it and forward pause, resume and cancel to that node, and jobs end
 * wherever their device is. The driver holds the rollout's lease (`LeaseKeeper`) and writes its
 * record only while the stored one names it; when it stops renewing the lease (it died or hung),
 * another node takes the rollout over.
 */
export class Rollouts {
  readonly #h: RolloutHost
  readonly #rollouts = new Map<string, OtaRollout>()
  readonly #driver: RolloutDriver

  /** The OTA service makes one (`emu.ota.rollouts`). */
  constructor(host: RolloutHost) {
    this.#h = host
    const self = host.store.node
    const table = host.store.table<OtaRollout>('rollouts')
    const leases = host.store.leases
    const ledger = leases === undefined ? undefined : new JobLedger()
    const keeper =
      leases === undefined
        ? undefined
        : new LeaseKeeper({
            leases,
            open: () => [...this.#rollouts.values()].filter((r) => !FINAL.has(r.status)),
            held: (id, node) => this.#driver.held(id, node),
            logger: host.logger,
            closed: host.closed,
          })
    const driver = new RolloutDriver(host, { rollouts: this.#rollouts, table, keeper, ledger })
    this.#driver = driver
    table.onChange((id, stored) => {
      if (stored === undefined) return
      const held = this.#rollouts.get(id)
      const driving = held !== undefined && driver.drives(held)
      if (driving && stored.node === self) return
      this.#rollouts.set(id, stored)
      if (driving) driver.lost(held)
      driver.emit(stored, held?.status)
    })
    host.store.bus.on('rollout', (message) => this.#forwarded(message))
    host.store.bus.on('rollout-leases-freed', () => {
      if (!host.closed.aborted) void keeper?.check()
    })
    host.events.on('ota:job', (job) => {
      ledger?.seen(job)
      driver.jobChanged(job)
    })
    // A node that closes frees its leases and says so: another takes its rollouts over at once.
    host.closed.addEventListener(
      'abort',
      () => {
        const ids = [...this.#rollouts.values()].filter((r) => driver.drives(r) && !FINAL.has(r.status))
        if (keeper === undefined || ids.length === 0) return
        keeper.release(ids.map((r) => r.id))
        host.store.bus.send('rollout-leases-freed', null)
      },
      { once: true },
    )
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
    this.#h.logger.info({ rolloutId: rollout.id, devices: devices.length }, 'rollout started')
    await this.#driver.begin(rollout)
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
    const { events, closed } = this.#h
    return waitForRollout({ events, closed, get: (key) => this.#rollouts.get(key) }, id, wanted, timeoutMs)
  }

  async #command(id: string, action: Action, reason: string): Promise<OtaRollout> {
    const rollout = this.#rollouts.get(id)
    if (rollout === undefined) throw new LinkkitError('ERR_INVALID_ARGUMENT', `no rollout ${id}`)
    assertAllowed(rollout, action)
    if (rollout.node === this.#h.store.node) {
      this.#driver.apply(rollout, action, reason)
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
      this.#driver.apply(rollout, action, reason)
    } catch (error) {
      this.#h.logger.info({ err: error, rolloutId: id }, 'forwarded rollout command refused')
    }
  }
}
