/** Digest threads alive in this process (started, not yet exited). */
let running = 0

/** A worker thread started (+1) or exited (-1). */
export function countRunning(change: 1 | -1): void {
  running += change
}

/** What the digest workers of this process were fed, since it started: a diagnostic for tests and benches. */
export interface DigestWorkerCounts {
  /** Bytes hashed in place, in a download's ring (no copy on the main thread). */
  inPlaceBytes: number
  /** Bytes copied into a batch first (held bytes read back, a TLS spill, chunks from elsewhere). */
  copiedBytes: number
  /** Times a download's ring waited for its worker to free room (its socket paused meanwhile). */
  ringWaits: number
  /** How long those waits took, in all. */
  ringWaitMs: number
}

export const counts: DigestWorkerCounts = { inPlaceBytes: 0, copiedBytes: 0, ringWaits: 0, ringWaitMs: 0 }

/** A copy of the counts of bytes fed to digest workers (see {@link DigestWorkerCounts}). */
export function digestWorkerCounts(): DigestWorkerCounts {
  return { ...counts }
}

/** How many digest worker threads are alive: a diagnostic, and how tests see that one was ended. */
export function runningDigestWorkers(): number {
  return running
}
