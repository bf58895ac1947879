import { LinkkitError } from '@linkkit/core'
import type { ActivateOptions } from './boot-types.js'

/** The boots a trial image gets (`confirmWithinBoots`, 1–255, default 1); throws `ERR_INVALID_ARGUMENT`. */
export function confirmBudget(options: ActivateOptions | undefined): number {
  const boots = options?.confirmWithinBoots ?? 1
  if (!Number.isInteger(boots) || boots < 1 || boots > 255) {
    throw new LinkkitError(
      'ERR_INVALID_ARGUMENT',
      `confirmWithinBoots must be an integer from 1 to 255, got ${boots}`,
    )
  }
  return boots
}
