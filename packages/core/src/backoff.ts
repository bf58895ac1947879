/** Reconnect backoff: exponential growth capped at a maximum, with random jitter. */
export interface BackoffOptions {
  /** Delay before the first retry. @default 1000 */
  initialDelayMs: number
  /** Upper bound of any delay. @default 60000 */
  maxDelayMs: number
  /** Growth factor per attempt. @default 2 */
  multiplier: number
  /** Fraction (0–1) of the delay that is randomised, so a fleet does not reconnect in lockstep. @default 0.5 */
  jitter: number
}

/** Reconnect backoff defaults: 1 s doubling up to 60 s, half of each delay randomised. */
export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  initialDelayMs: 1000,
  maxDelayMs: 60_000,
  multiplier: 2,
  jitter: 0.5,
})

/**
 * The delay before retry number `attempt` (1-based). Pure: the random source is a parameter so
 * tests can pin it. With jitter j the delay lies in [base·(1−j), base], base = min(max, initial·m^(attempt−1)).
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const n = Math.max(1, Math.floor(attempt))
  const base = Math.min(options.maxDelayMs, options.initialDelayMs * options.multiplier ** (n - 1))
  const jitter = Math.min(1, Math.max(0, options.jitter))
  return Math.round(base * (1 - jitter * random()))
}
