import { invalidOption, type LinkkitError } from '@linkkit/core'
import type { FotaRollback } from './device-boot.js'
import type { DownloadTuning, FotaProgress } from './perform.js'
import { type TrialBudget, trialBudgetOption } from './persistence/confirm-budget.js'
import { type FotaClock, isFotaClock, systemClock } from './policy/clock.js'
import { type PolicyStage, policyList, type UpdatePolicy } from './policy/policy.js'
import type { ProgressPolicy } from './progress.js'
import type { FirmwareTrust } from './trust/trust-keys.js'
import type { ConfigOffer, FirmwareOffer, FirmwarePersistence } from './types.js'

/** Firmware of one module: the version running now and where new images go. */
export interface ModuleFirmware {
  /** The version running now; informed at every (re)connect (`HAL_GetFirmwareVersion`). */
  version?: string
  /** Where downloaded images of this module go (`HAL_Firmware_Persistence_*`). */
  persistence?: FirmwarePersistence
  /**
   * Keys that sign this module's images: with them, an image without a valid signature by one of
   * them is refused (step -3). A module without its own inherits `firmware.trust`.
   */
  trust?: FirmwareTrust
  /**
   * The lowest security version (`extData.securityVersion`) accepted for this module: lower
   * offers are refused before any byte (step -1). The adapter's own counter, raised by
   * `confirm()`, counts when it is higher. Not inherited by modules. @default 0
   */
  securityVersion?: number
}

/** Options of `new FotaClient(session, options)`: `linkkit.open({ firmware })`. */
export interface FotaOptions extends ModuleFirmware {
  /** Other modules than the default one (the whole device firmware), by module name. */
  modules?: Record<string, ModuleFirmware>
  /** Accept plain `http://` firmware URLs. @default false */
  allowHttp?: boolean
  /** TLS settings of firmware downloads; verification stays on unless turned off by name. */
  tls?: DownloadTuning['tls']
  /** Download every valid offer as soon as it arrives (into the module's persistence). @default false */
  autoDownload?: boolean
  /** Defaults for every download: idle timeout, retry budget, chunk size. */
  download?: Omit<DownloadTuning, 'signal' | 'allowHttp' | 'tls'>
  /** When percentages are published: every `minStep` points, at most every `minIntervalMs`. @default { minStep: 5, minIntervalMs: 50 } */
  progress?: Partial<ProgressPolicy>
  /**
   * Update policies asked before a download starts and before `activate()`: a maintenance window,
   * enough room, a retry budget, your own predicate (`maintenanceWindow`, `enoughRoom`,
   * `retryBudget`, `allowWhen`, or any `UpdatePolicy`). A deferred step waits and is taken again
   * when they allow it (`fota:deferred` says why); a refusal is reported as step -1.
   */
  policy?: UpdatePolicy | readonly UpdatePolicy[]
  /**
   * Boots an activated image gets to be confirmed (`device.fota.confirm()`) before the adapter
   * rolls back; passed to the adapter by `activate()`. @default 1
   */
  confirmWithinBoots?: number
  /**
   * Milliseconds an activated image gets, from its first boot, to be confirmed
   * (`device.fota.confirm()`); passed to the adapter by `activate()`, which keeps the deadline
   * with its boot state so a restart does not extend it. When it passes while the image runs, the
   * device rolls it back through the adapter (`rollBack()`), emits `fota:rollback` (restart then)
   * and reports step -1 `rolled back`; a boot after it rolls back too. An integer from 1 to
   * 2^32 − 1 (about 49 days). @default undefined (only `confirmWithinBoots` counts)
   */
  confirmWithinMs?: number
  /** The clock of policies, deferrals and confirm deadlines; tests pass a fake one. @default the system clock */
  clock?: FotaClock
}

/** A step held back by `firmware.policy`, as `fota:deferred` tells it. */
export interface FotaDeferral {
  /** What waits: a download or an activation. */
  stage: PolicyStage
  /** The module, undefined for the default one. */
  module?: string
  /** The version offered or downloaded. */
  version: string
  /** Why, as the deferring policies said it. */
  reason: string
  /** When the policies are asked again (clock time, ms since the epoch). */
  retryAt: number
}

/** Options of `FotaClient.download`: tuning for this download and an adapter for it. */
export interface FotaDownloadOptions extends Omit<DownloadTuning, 'allowHttp' | 'tls'> {
  /** Overrides the module's configured persistence for this download. */
  persistence?: FirmwarePersistence
}

/** Events of a `FotaClient` (and so of `device.fota`). */
export interface FotaEvents {
  /** The cloud offers firmware (an upgrade push, or a firmware/get reply). ITE_FOTA / ITE_FOTA_MODULE. */
  fota: (offer: FirmwareOffer) => void
  /** Local download progress after each stored chunk. */
  'fota:progress': (progress: FotaProgress) => void
  /** `firmware.policy` held a download or an activation back; it is taken again at `retryAt`. Nothing is reported to the platform meanwhile. */
  'fota:deferred': (deferral: FotaDeferral) => void
  /**
   * The image on trial was not confirmed within `firmware.confirmWithinMs` and the device rolled
   * it back through its adapter: restart, so the previous image runs. The platform hears step -1
   * `rolled back` (now when connected, else at the next connect).
   */
  'fota:rollback': (rollback: FotaRollback) => void
  /** A remote configuration is offered (ITE_COTA). */
  config: (offer: ConfigOffer) => void
  /** Refused offers (`ERR_OFFER_INVALID`, `ERR_MODULE_UNDECLARED`), failed informs and `autoDownload` failures. Without a listener it is printed once per code as a `LinkkitWarning` (docs/errors.md). */
  error: (error: LinkkitError) => void
}

/** What `FotaOptions` resolve to, checked once at construction. */
export interface ResolvedFotaOptions {
  readonly clock: FotaClock
  readonly policies: readonly UpdatePolicy[]
  readonly trial: TrialBudget
}

/**
 * Checks the options of `FotaClient` that it holds itself (trusted keys and security versions are
 * checked by `OfferTrust`, versions by `FirmwareModules`); throws `ERR_INVALID_OPTIONS`.
 */
export function resolveFotaOptions(options: FotaOptions): ResolvedFotaOptions {
  if (options.clock !== undefined && !isFotaClock(options.clock)) {
    throw invalidOption('firmware.clock', 'an object with now() and setTimer()')
  }
  const policies = policyList(options.policy)
  for (const policy of policies) {
    if (typeof policy?.check !== 'function' || typeof policy.name !== 'string') {
      throw invalidOption('firmware.policy', 'UpdatePolicy objects ({ name, check })')
    }
  }
  return {
    clock: options.clock ?? systemClock,
    policies,
    trial: trialBudgetOption(options, 'firmware.'),
  }
}
