import { integerOption, LinkkitError } from '@linkkit/core'
import type { ActivateOptions } from './boot-types.js'

/** What an activated image gets to prove itself: boots, and milliseconds from its first boot when set. */
export interface TrialBudget {
  readonly boots: number
  readonly ms: number | undefined
}

/** The longest `confirmWithinMs`: what a boot record's 32-bit field holds (about 49.7 days). */
export const MAX_CONFIRM_WITHIN_MS = 2 ** 32 - 1

/**
 * The trial budget as options of `prefix` (`firmware.`): `confirmWithinBoots` 1–255 (default 1),
 * `confirmWithinMs` 1–2^32 − 1 or undefined; throws `ERR_INVALID_OPTIONS` naming the option.
 */
export function trialBudgetOption(options: ActivateOptions | undefined, prefix = ''): TrialBudget {
  const boots = integerOption(options?.confirmWithinBoots, `${prefix}confirmWithinBoots`, 1, { max: 255 })
  const ms = options?.confirmWithinMs
  if (ms === undefined) return { boots, ms: undefined }
  return {
    boots,
    ms: integerOption(ms, `${prefix}confirmWithinMs`, 0, { max: MAX_CONFIRM_WITHIN_MS }),
  }
}

/** The trial budget an adapter's `activate()` was given; throws `ERR_INVALID_ARGUMENT`. */
export function trialBudget(options: ActivateOptions | undefined): TrialBudget {
  try {
    return trialBudgetOption(options)
  } catch (error) {
    const err = error as LinkkitError
    throw new LinkkitError('ERR_INVALID_ARGUMENT', err.message, { details: err.details })
  }
}
