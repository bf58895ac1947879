/** Tuning of a {@link DigestWorker}; the defaults suit a firmware download. */
export interface DigestWorkerOptions {
  /**
   * Node hash algorithm.
   * @default 'sha256'
   */
  algorithm?: string
  /**
   * Bytes of one batch that chunks from outside the ring (held bytes read back on resume, bytes
   * a TLS socket delivered after a pause) are copied into before the worker hashes them.
   * @default 1048576
   */
  batchBytes?: number
  /**
   * Copy batches in shared memory (allocated once, touched only when used). When the worker has not
   * hashed any of them yet, `update` waits for it.
   * @default 2
   */
  batches?: number
  /**
   * Bytes the caller expects to hash. When they fill more than one batch the worker starts at
   * once (its start-up, tens of ms, overlaps the request) and offers a ring ({@link ring}) the
   * download reads into, whose chunks it hashes in place.
   */
  expectedBytes?: number
  /**
   * Size of that ring. It holds what the download has not handed on yet and what the worker has
   * not hashed yet; when it is full, the download's socket stays paused.
   * @default 4194304
   */
  ringBytes?: number
  /**
   * A sleeping worker is woken once this many bytes wait for it (and when the main thread waits
   * for it); otherwise it finds them when its nap ends.
   * @default 2097152
   */
  wakeBytes?: number
  /**
   * The worker's nap when it has caught up; it doubles while nothing comes. Each wake-up of the
   * worker can take the download's thread off its core on a busy machine, so fewer is better, as
   * long as the ring holds what arrives meanwhile (2 ms of a 200 MB/s download: 0.4 MiB).
   * @default 2
   */
  napMs?: number
  /** Its longest nap. @default 32 */
  maxNapMs?: number
  /** Segments published and not yet hashed, at most. @default 1024 */
  segments?: number
  /** Tests only: the worker naps this long before each segment, to be the slow side. @default 0 */
  delayMs?: number
  /** Tests only: the worker thread exits (code 3) once it has hashed this many bytes. */
  exitAfterBytes?: number
}

/** The options with their defaults. */
export type ResolvedDigestWorker = Readonly<Required<DigestWorkerOptions>>

/** Fills in the defaults (`expectedBytes` 0: unknown). */
export function resolveDigestWorker(options: DigestWorkerOptions): ResolvedDigestWorker {
  const napMs = options.napMs ?? 2
  return Object.freeze({
    algorithm: options.algorithm ?? 'sha256',
    batchBytes: options.batchBytes ?? 1024 * 1024,
    batches: Math.max(1, options.batches ?? 2),
    expectedBytes: options.expectedBytes ?? 0,
    ringBytes: options.ringBytes ?? 4 * 1024 * 1024,
    wakeBytes: options.wakeBytes ?? 2 * 1024 * 1024,
    napMs,
    maxNapMs: Math.max(napMs, options.maxNapMs ?? 32),
    segments: Math.max(4, options.segments ?? 1024),
    delayMs: options.delayMs ?? 0,
    exitAfterBytes: options.exitAfterBytes ?? -1,
  })
}
