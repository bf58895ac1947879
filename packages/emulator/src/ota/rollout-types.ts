import type { Firmware } from './types.js'

/**
 * Where a staged rollout is: `running` starts upgrades as slots free up, `paused` starts none
 * (those under way go on), `completed` once every targeted device's upgrade ended, `canceled`.
 */
export type RolloutStatus = 'running' | 'paused' | 'completed' | 'canceled'

/** Options of `emu.ota.rollout()`: the firmware, exactly one target, and the pace. */
export interface RolloutOptions {
  /** The product whose devices are upgraded. */
  productKey: string
  /** What to offer (from `addFirmware`), of that product. */
  firmware: Pick<Firmware, 'id'>
  /**
   * A share of the product's devices, more than 0 and at most 100. The share is stable: devices are
   * ordered by a hash of their name, so 10 % picks a subset of what 20 % would.
   */
  percent?: number
  /** These devices of the product. */
  deviceNames?: readonly string[]
  /** Devices with this tag (`thing.deviceinfo.update`): `key` (any value) or `key=value`. */
  tag?: string
  /** Upgrades under way at once, at most. @default 10 */
  maxConcurrent?: number
  /**
   * Pauses the rollout when this many upgrades failed since it started (or was last resumed): a
   * count (`5`), or a share of the targeted devices (`'5%'`, at least one failure).
   * @default never pauses
   */
  pauseOnFailure?: number | string
  /** Passed to every push (`PushOptions.srcVersion`). */
  srcVersion?: string
  /** Passed to every push (`PushOptions.timeoutMs`). */
  timeoutMs?: number
}

/** Counts of a rollout's devices. */
export interface RolloutCounts {
  /** Devices the rollout targets. */
  total: number
  /** Not started yet. */
  queued: number
  /** Upgrades under way (pending, pushed or upgrading jobs). */
  active: number
  /** Jobs that succeeded. */
  succeeded: number
  /** Jobs that failed (device step, timeout, wrong version, or a push refused). */
  failed: number
  /** Jobs canceled (by the operator, or with the rollout). */
  canceled: number
}

/** A staged rollout, as `emu.ota.rollouts.get()` and the control API show it. */
export interface OtaRollout {
  /** Rollout id, e.g. `rollout-1`. */
  id: string
  /** The product. */
  productKey: string
  /** The firmware offered. */
  firmwareId: string
  /** Its version. */
  version: string
  /** Where the rollout is. */
  status: RolloutStatus
  /** How devices were chosen (one of the three). */
  target: {
    /** The share of the product. */
    percent?: number
    /** The listed devices. */
    deviceNames?: string[]
    /** The tag, `key` or `key=value`. */
    tag?: string
  }
  /** Upgrades under way at once, at most. */
  maxConcurrent: number
  /** Failures since the last start or resume that pause the rollout; undefined: never. */
  failureThreshold: number | undefined
  /** Failures since the last start or resume. */
  failuresSinceResume: number
  /** Why it paused (the threshold, or the operator). */
  pausedReason: string | undefined
  /** The counts of its devices. */
  counts: RolloutCounts
  /** Targeted devices not started yet, in the order they will be. */
  queue: string[]
  /** The job of each started device, by device name. */
  jobs: Record<string, string>
  /** Passed to every push. */
  srcVersion: string | undefined
  /** Passed to every push. */
  timeoutMs: number | undefined
  /** Creation and last change, ms since the epoch. */
  createdAt: number
  /** Last change, ms since the epoch. */
  updatedAt: number
  /** The emulator node that drives it (`''` in memory): with scale-out, others forward commands to it. */
  node: string
}
