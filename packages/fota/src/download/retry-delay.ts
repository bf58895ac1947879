import { backoffDelay } from '@linkkit/core'
import type { DownloadRetryOptions } from './options.js'

/**
 * The pause before retry number `failures` (1-based, failures in a row): `baseDelayMs` doubling
 * per failure, capped at `maxDelayMs`, with up to half of it randomised so devices that lost the
 * same server do not come back in lockstep. Pure: `random` is a parameter so tests can pin it.
 */
export function retryDelayMs(
  failures: number,
  retry: Pick<DownloadRetryOptions, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number = Math.random,
): number {
  const options = {
    initialDelayMs: retry.baseDelayMs,
    maxDelayMs: retry.maxDelayMs,
    multiplier: 2,
    jitter: 0.5,
  }
  return backoffDelay(failures, options, random)
}
