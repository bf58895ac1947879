import { integerOption, invalidOption, LinkkitError } from '@linkkit/core'
import type { DigestMethod } from '../types.js'
import type { BootClock } from './boot-types.js'
import { type FlashLayout, flashLayout, type SlotName } from './flash/layout.js'
import type { FlashWear, PowerCutAtOperation } from './flash/nor-flash.js'
import type { SlotInfo } from './flash/slot.js'

/** Options of `FlashSimPersistence`. */
export interface FlashSimOptions {
  /** The file that holds the simulated flash; a new instance on the same file is a reboot. */
  path: string
  /** Erase unit; at least 1024 (a slot's header sector holds its records and progress map). @default 4096 */
  sectorSizeBytes?: number
  /** Size of each of the two slots, header sector included; a multiple of the sector size. @default 1048576 */
  slotSizeBytes?: number
  /**
   * Fault injection: power is lost once this many bytes were programmed by this instance. The
   * program that crosses the mark keeps only its first bytes (torn) and throws
   * `ERR_FLASH_POWER_CUT`, as does every later call until the file is opened again (a new
   * instance: a reboot). Once the mark is reached exactly, the next erase or program is cut
   * before it starts.
   * @default undefined (no power cut)
   */
  powerCutAt?: number
  /**
   * Fault injection by operation: power is lost at the erase or program of this index (0 = the
   * first one this instance performs). An erase is cut before it starts; a program keeps its
   * first `tornBytes` bytes (default 0). The `ERR_FLASH_POWER_CUT` it throws carries
   * `details: { operation, kind, address, length, persisted }`, so a test can walk every
   * operation boundary of an upgrade: raise `index` until the upgrade completes uncut.
   * @default undefined (no power cut)
   */
  powerCutAtOperation?: PowerCutAtOperation
  /**
   * The clock of trial deadlines (`activate({ confirmWithinMs })`): `boot()` stamps the first boot
   * of an image on trial with it and rolls back once the deadline passed. Tests pass a fake one.
   * @default the system clock
   */
  clock?: BootClock
}

/** Options of `FlashSimPersistence.provision`: the factory image flashed into slot A. */
export interface FlashSimProvisionOptions extends FlashSimOptions {
  /** The factory image; its digest is computed with `signMethod` (default `'SHA256'`). */
  image: {
    /** Version of the factory image. */
    version: string
    /** Its bytes. */
    data: Uint8Array
    /** @default 'SHA256' */
    signMethod?: DigestMethod
    /** Module name in the image header. */
    module?: string
  }
}

/** A snapshot of the simulated flash, for inspection and tests. */
export interface FlashSimState {
  /** The confirmed slot. */
  readonly active: SlotName
  /** The slot activated for a trial boot, if any. */
  readonly pending: SlotName | undefined
  /** The pending slot has booted once and waits for `confirm()`. */
  readonly trial: boolean
  /** The slot chosen by this instance's last `boot()`. */
  readonly booted: SlotName | undefined
  /** What each slot holds. */
  readonly slots: Readonly<Record<SlotName, SlotInfo>>
  /** Erase counts and bytes programmed so far. */
  readonly wear: FlashWear
}

export const flashSimDefaults = { sectorSizeBytes: 4096, slotSizeBytes: 1024 * 1024 } as const

/** `FlashSimOptions` checked, with their defaults. */
export interface ResolvedFlashSimOptions {
  readonly path: string
  readonly layout: FlashLayout
  readonly powerCutAt: number | undefined
  readonly powerCutAtOperation: PowerCutAtOperation | undefined
  readonly clock: BootClock
}

const systemBootClock: BootClock = Object.freeze({ now: () => Date.now() })

/** Checks the options once, at construction; throws `ERR_INVALID_OPTIONS` naming the bad one. */
export function resolveFlashSimOptions(options: FlashSimOptions): ResolvedFlashSimOptions {
  if (typeof options?.path !== 'string' || options.path.length === 0) {
    throw new LinkkitError('ERR_INVALID_OPTIONS', 'FlashSimPersistence needs a non-empty `path`')
  }
  const powerCutAt = options.powerCutAt
  if (powerCutAt !== undefined) integerOption(powerCutAt, 'powerCutAt', 0, { min: 0 })
  const atOperation = options.powerCutAtOperation
  if (atOperation !== undefined) {
    integerOption(atOperation.index ?? null, 'powerCutAtOperation.index', 0, { min: 0 })
    integerOption(atOperation.tornBytes, 'powerCutAtOperation.tornBytes', 0, { min: 0 })
  }
  const clock = options.clock ?? systemBootClock
  if (typeof clock?.now !== 'function') throw invalidOption('clock', 'an object with now()')
  return {
    path: options.path,
    layout: flashLayout(
      options.sectorSizeBytes ?? flashSimDefaults.sectorSizeBytes,
      options.slotSizeBytes ?? flashSimDefaults.slotSizeBytes,
    ),
    powerCutAt,
    powerCutAtOperation: atOperation === undefined ? undefined : { ...atOperation },
    clock,
  }
}
