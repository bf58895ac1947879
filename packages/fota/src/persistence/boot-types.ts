/** Options of an adapter's `activate()`: how long the new image stays on trial. */
export interface ActivateOptions {
  /**
   * Boots the new image gets to be confirmed: without `confirm()` by then, the next boot rolls
   * back to the confirmed image. An integer from 1 to 255. @default 1
   */
  confirmWithinBoots?: number
  /**
   * Milliseconds the new image gets to be confirmed, counted from its first boot by the adapter's
   * clock and kept with its boot state, so a restart does not extend them: a boot after them rolls
   * back as a spent boot budget does, and `rollBack()` (which a device calls when they run out
   * while it runs) rolls back at once. An integer from 1 to 2^32 − 1 (about 49 days).
   * @default undefined (only boots count)
   */
  confirmWithinMs?: number
}

/** Where an adapter's trial deadlines take the time from: only `now()` is needed. */
export interface BootClock {
  /** Milliseconds since the epoch. */
  now(): number
}

/** What a boot chose (an adapter's `boot()`, the bootloader's step). */
export interface BootResult {
  /** Version of the image that runs; undefined when the adapter cannot tell (a factory file it never stored). */
  readonly version: string | undefined
  /** True when this boot went back to the confirmed image instead of the one on trial. */
  readonly rolledBack: boolean
}

/** The image on trial: it booted and waits for `confirm()`. */
export interface TrialState {
  /** Its version. */
  readonly version: string
  /** Its security version (`extData.securityVersion` of its offer, 0 when none). */
  readonly securityVersion: number
  /** Boots left before a boot rolls back (0: the next boot rolls back unless confirmed). */
  readonly bootsLeft: number
  /** The version a rollback returns to, when known. */
  readonly fallbackVersion: string | undefined
  /**
   * With a deadline (`confirmWithinMs`): confirm before this time (the adapter's clock, ms since
   * the epoch), or the image rolls back. Undefined when only boots count.
   */
  readonly confirmBy?: number | undefined
}

/** What an adapter with trial boots knows about the running image, read without side effects. */
export interface BootState {
  /** Version of the running image (the trial image during a trial); undefined when unknown. */
  readonly version: string | undefined
  /** Set while the running image is on trial. */
  readonly trial: TrialState | undefined
  /** Set after a boot rolled back, until `rollbackReported()`: the version it rolled back from, when known. */
  readonly rolledBack:
    | {
        /** The version that was rolled back. */
        readonly version: string | undefined
      }
    | undefined
  /** The security counter: the lowest security version an offer may carry. Raised by `confirm()`. */
  readonly securityVersion: number
}

/** How much room the storage has for firmware, for the `enoughRoom` policy. */
export interface StorageCapacity {
  /** The largest offer the storage could ever hold, all files together. */
  readonly totalBytes: number
  /** Bytes a download could use now (less while a trial image occupies the spare slot). */
  readonly freeBytes: number
}
