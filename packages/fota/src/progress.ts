import { LinkkitError } from '@linkkit/core'

/** Progress steps of `/ota/device/progress` (IOT_OTA_Progress_t, docs/protocol.md §3.5). */
export const OtaProgress = {
  /** Flash (persistence) write failed — IOT_OTAP_BURN_FAILED. */
  BurnFailed: -4,
  /** Digest verification failed — IOT_OTAP_CHECK_FALIED. */
  CheckFailed: -3,
  /** Download failed — IOT_OTAP_FETCH_FAILED. */
  FetchFailed: -2,
  /** Any other failure — IOT_OTAP_GENERAL_FAILED. */
  GeneralFailed: -1,
  /** IOT_OTAP_FETCH_PERCENTAGE_MIN */
  Min: 0,
  /** IOT_OTAP_FETCH_PERCENTAGE_MAX */
  Max: 100,
} as const

/** When download percentages are published. */
export interface ProgressPolicy {
  /** Report a percentage only when it grew by at least this many points. @default 5 */
  minStep: number
  /** …and at least this long after the previous report (3.x waits 50 ms). @default 50 */
  minIntervalMs: number
}

/** Every 5 points, at most every 50 ms, as the C SDK does. */
export const DEFAULT_PROGRESS_POLICY: Readonly<ProgressPolicy> = Object.freeze({
  minStep: 5,
  minIntervalMs: 50,
})

/** Checks a step is an integer in [-4, 100]; 3.x rejects anything else (docs/protocol.md §3.5). */
export function assertStep(step: number): number {
  if (!Number.isInteger(step) || step < -4 || step > 100) {
    throw new LinkkitError(
      'ERR_INVALID_ARGUMENT',
      `progress step must be an integer in [-4, 100], got ${step}`,
    )
  }
  return step
}

/** Publishes one progress step (the OTA channel's `reportProgress`, with the module bound). */
export type PublishStep = (step: number, desc: string) => Promise<void>

/**
 * Rate-limits the download percentages of one download as the C SDK does (docs/protocol.md §3.5):
 * `0` first, then when grown by ≥ minStep points and ≥ minIntervalMs later, and `100` always.
 * Failure steps and explicit reports go out at once.
 */
export class ProgressReporter {
  readonly #publish: PublishStep
  readonly #policy: ProgressPolicy
  readonly #now: () => number
  #lastPercent = -1
  #lastAt = Number.NEGATIVE_INFINITY

  constructor(publish: PublishStep, policy: Partial<ProgressPolicy> = {}, now: () => number = Date.now) {
    this.#publish = publish
    this.#policy = { ...DEFAULT_PROGRESS_POLICY, ...policy }
    this.#now = now
  }

  /** Publishes one step now; never rejects for delivery (see `OtaChannel.reportProgress`). */
  async report(step: number, desc = ''): Promise<void> {
    assertStep(step)
    if (step >= 0) {
      this.#lastPercent = step
      this.#lastAt = this.#now()
    }
    await this.#publish(step, desc)
  }

  /** Reports a download percentage when the policy says it is worth a message. Returns whether it did. */
  percent(percent: number): boolean {
    const p = Math.max(0, Math.min(100, Math.floor(percent)))
    const due =
      this.#lastPercent < 0 ||
      p === 100 ||
      (p - this.#lastPercent >= this.#policy.minStep &&
        this.#now() - this.#lastAt >= this.#policy.minIntervalMs)
    if (!due || p === this.#lastPercent) return false
    void this.report(p)
    return true
  }

  /** Restarts rate limiting (a new download). */
  reset(): void {
    this.#lastPercent = -1
    this.#lastAt = Number.NEGATIVE_INFINITY
  }
}

/** Checks a firmware version (1–64 printable characters, no `"` or `\`) and returns it; throws `ERR_INVALID_ARGUMENT`. */
export function assertVersion(version: unknown): string {
  const printable =
    typeof version === 'string' && [...version].every((ch) => ch >= ' ' && ch !== '"' && ch !== '\\')
  if (typeof version !== 'string' || version.length === 0 || version.length > 64 || !printable) {
    throw new LinkkitError('ERR_INVALID_ARGUMENT', 'firmware version must be 1–64 printable characters')
  }
  return version
}
