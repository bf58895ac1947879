// About 350 lines on purpose: the main side of one protocol with its thread (publishing segments,
// the ring's holds, the copy batches, the waits and the failure paths), which only read well
// together; the worker's program, the options and the counters live beside it.
import { createHash, type Hash } from 'node:crypto'
import { Worker } from 'node:worker_threads'
import { LinkkitError } from '@linkkit/core'
import type { BodyRing, RingReader } from '../download/body-ring.js'
import { sharedBodyRing } from '../download/http-exchange.js'
import { countRunning, counts } from './digest-worker-counts.js'
import {
  type DigestWorkerOptions,
  type ResolvedDigestWorker,
  resolveDigestWorker,
} from './digest-worker-options.js'
import {
  FINISH,
  NOBODY,
  NOTIFY_AT,
  READ,
  READ_BYTES,
  SLEEPING,
  TABLE,
  WORKER_SOURCE,
  WRITTEN,
} from './digest-worker-program.js'

export { type DigestWorkerCounts, digestWorkerCounts, runningDigestWorkers } from './digest-worker-counts.js'
export type { DigestWorkerOptions } from './digest-worker-options.js'

/** `Atomics.waitAsync` (V8 since Node 16; TypeScript declares it from lib ES2024, the repo targets ES2023). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      array: Int32Array,
      index: number,
      value: number,
    ): { async: false; value: string } | { async: true; value: Promise<string> }
  }
).waitAsync

/**
 * A streaming hash computed on a worker thread, fed in order with the bytes of a download.
 *
 * Why a thread: a signature over an MD5 offer needs the image's SHA-256 on top of the MD5 the
 * download computes, and on the main thread that second pass cost about a tenth of the download's
 * time. Why no copy: the download reads its socket into the {@link ring} this worker offers, a
 * region of shared memory; each chunk the sink gets is published to the worker as an (offset,
 * length) segment and hashed in place, and the ring reuses a region only once the worker is past
 * it (docs/performance.md, "FOTA download"). Chunks from elsewhere are copied into batches. A
 * worker that has caught up naps (`napMs`, growing while idle) and finds the next chunks when it
 * wakes; the main thread wakes it only once `wakeBytes` wait, when it waits for the worker (with
 * `Atomics.waitAsync`, never blocking in `Atomics.wait`), and for the digest.
 *
 * A hash whose bytes never fill one batch is computed on the main thread and starts no worker.
 * The worker is `unref()`'d except while the main side waits for it, so a forgotten one never
 * keeps the process alive; `close()` terminates it. A worker that cannot start, throws or exits
 * fails every later `update` and `digest` with `ERR_DIGEST_WORKER`, and any wait in progress.
 */
export class DigestWorker implements RingReader {
  readonly #o: ResolvedDigestWorker
  #data: Uint8Array | undefined
  #control: Int32Array | undefined
  #ring: BodyRing | undefined
  /** Segments published, and their bytes modulo 2^32. */
  #written = 0
  #writtenBytes = 0
  /** Copy batches handed over; bytes in the one being filled; per slot, the segment that holds it. */
  #handed = 0
  #fill = 0
  #slotSegment: number[]
  /** Ring segments not known to be hashed: [segment, ring position] pairs, from `#holdsHead`. */
  readonly #holds: number[] = []
  #holdsHead = 0
  #worker: Worker | undefined
  #refs = 0
  #failure: LinkkitError | undefined
  #digest: { resolve: (digest: Buffer) => void; reject: (error: LinkkitError) => void } | undefined
  #finishing = false

  constructor(options: DigestWorkerOptions = {}) {
    this.#o = resolveDigestWorker(options)
    this.#slotSegment = new Array<number>(this.#o.batches).fill(-1)
    if (this.#o.expectedBytes > this.#o.batchBytes) this.#start(true)
  }

  /**
   * The ring the download reads into, whose chunks this worker hashes without a copy; `undefined`
   * when no worker was started up front (few expected bytes, or it failed to start).
   */
  get ring(): BodyRing | undefined {
    return this.#ring
  }

  /**
   * Hashes `chunk` after the bytes before it. A chunk lent by {@link ring} is hashed in place: the
   * ring keeps it until the worker is past it. Any other chunk is copied (the caller may reuse it
   * once `update` returned). Returns a promise only when it must wait for the worker; the caller
   * awaits it before the next `update`.
   */
  update(chunk: Uint8Array): Promise<void> | undefined {
    this.#assertUsable()
    if (chunk.length === 0) return undefined
    const at = this.#ring?.positionOf(chunk)
    if (at === undefined) return this.#copy(chunk, 0)
    // Bytes copied before this chunk go first.
    if ((this.#fill > 0 && !this.#handOver()) || !this.#hasSegment()) {
      return this.#later(() => this.update(chunk), this.#written - this.#o.segments + 1)
    }
    this.#holds.push(this.#written, at)
    this.#publish(chunk.byteOffset, chunk.length)
    counts.inPlaceBytes += chunk.length
    return undefined
  }

  /** The digest of every byte given, once; then the worker is gone. */
  async digest(): Promise<Buffer> {
    this.#assertUsable()
    this.#finishing = true
    if (this.#worker === undefined) {
      // Everything fitted in the first batch: hashing it here is cheaper than starting a thread.
      const hash: Hash = createHash(this.#o.algorithm)
      if (this.#data !== undefined) hash.update(this.#data.subarray(0, this.#fill))
      return hash.digest()
    }
    const worker = this.#worker
    const digest = new Promise<Buffer>((resolve, reject) => {
      this.#digest = { resolve, reject }
    })
    worker.ref()
    try {
      while ((this.#fill > 0 && !this.#handOver()) || !this.#hasSegment()) {
        await this.#progress(this.#written - this.#o.segments + 1)
      }
      this.#publish(0, FINISH)
      this.#wake()
      return await digest
    } finally {
      this.close()
    }
  }

  /** Terminates the worker and fails any wait in progress with `ERR_CLOSED`. Idempotent. */
  close(): void {
    if (this.#failure === undefined) {
      this.#fail(new LinkkitError('ERR_CLOSED', 'the firmware digest was closed'))
    }
  }

  /** RingReader: the ring position of the oldest chunk not hashed yet (`Infinity`: none, or failed). */
  heldFrom(): number {
    if (this.#failure !== undefined) return Number.POSITIVE_INFINITY
    const holds = this.#holds
    if (this.#holdsHead === holds.length) return Number.POSITIVE_INFINITY
    const read = Atomics.load(this.#control as Int32Array, READ)
    while (this.#holdsHead < holds.length && (holds[this.#holdsHead] as number) < read) this.#holdsHead += 2
    if (this.#holdsHead === holds.length) {
      holds.length = 0
      this.#holdsHead = 0
      return Number.POSITIVE_INFINITY
    }
    // A worker always a little behind never empties the queue: drop the hashed head now and then.
    if (this.#holdsHead > 4096) {
      holds.splice(0, this.#holdsHead)
      this.#holdsHead = 0
    }
    return holds[this.#holdsHead + 1] as number
  }

  /** RingReader: resolves once the worker hashed half the chunks it holds (at least one), or failed. */
  progress(): Promise<void> {
    if (this.#failure !== undefined) return Promise.resolve()
    counts.ringWaits += 1
    const start = performance.now()
    return this.#progress().finally(() => {
      counts.ringWaitMs += performance.now() - start
    })
  }

  #assertUsable(): void {
    if (this.#failure !== undefined) throw this.#failure
    if (this.#finishing) throw new LinkkitError('ERR_INTERNAL', 'DigestWorker used after digest()')
  }

  #copy(chunk: Uint8Array, from: number): Promise<void> | undefined {
    const data = this.#data ?? this.#allocate(false)
    let offset = from
    while (offset < chunk.length) {
      const blocked =
        (this.#fill === this.#o.batchBytes && !this.#handOver()) ||
        (this.#fill === 0 && !this.#slotFree(this.#handed % this.#o.batches))
      if (blocked) return this.#later(() => this.#copy(chunk, offset), this.#oldestNeeded())
      const slot = this.#handed % this.#o.batches
      const n = Math.min(chunk.length - offset, this.#o.batchBytes - this.#fill)
      data.set(
        n === chunk.length ? chunk : chunk.subarray(offset, offset + n),
        slot * this.#o.batchBytes + this.#fill,
      )
      this.#fill += n
      offset += n
      counts.copiedBytes += n
    }
    // A full batch goes to the worker now; if no segment is free, the next call hands it over.
    if (this.#fill === this.#o.batchBytes) this.#handOver()
    return undefined
  }

  /** Waits for the worker's progress, then runs `then` again (which may wait once more). */
  async #later(then: () => Promise<void> | undefined, target?: number): Promise<void> {
    await this.#progress(target)
    this.#assertUsable()
    await then()
  }

  /** The segments the worker must have hashed for the next copy batch and the next segment to be free. */
  #oldestNeeded(): number {
    const slot = this.#slotSegment[this.#handed % this.#o.batches] as number
    return Math.max(slot + 1, this.#written - this.#o.segments + 1)
  }

  #slotFree(slot: number): boolean {
    const control = this.#control
    return control === undefined || (this.#slotSegment[slot] as number) < Atomics.load(control, READ)
  }

  #hasSegment(): boolean {
    return this.#written - Atomics.load(this.#control as Int32Array, READ) < this.#o.segments
  }

  /** Hands the batch being filled to the worker, starting it when this is the first; false: no segment free yet. */
  #handOver(): boolean {
    if (this.#worker === undefined && this.#start(false) === undefined) throw this.#failure
    if (!this.#hasSegment()) return false
    const slot = this.#handed % this.#o.batches
    this.#slotSegment[slot] = this.#written
    this.#publish(slot * this.#o.batchBytes, this.#fill)
    this.#handed += 1
    this.#fill = 0
    // Copies are rare (resumed bytes, a TLS spill) and their batches few: no point letting them wait.
    this.#wake()
    return true
  }

  /** Publishes one segment (the caller checked there is room), waking the worker once enough waits. */
  #publish(offset: number, length: number): void {
    const control = this.#control as Int32Array
    const at = TABLE + 2 * (this.#written % this.#o.segments)
    control[at] = offset
    control[at + 1] = length
    this.#written += 1
    Atomics.store(control, WRITTEN, this.#written)
    if (length === FINISH) return
    this.#writtenBytes = (this.#writtenBytes + length) | 0
    if (((this.#writtenBytes - Atomics.load(control, READ_BYTES)) | 0) >= this.#o.wakeBytes) this.#wake()
  }

  /** Wakes the worker if it sleeps (one notify per sleep: the flag is taken here). */
  #wake(): void {
    const control = this.#control as Int32Array
    if (Atomics.compareExchange(control, SLEEPING, 1, 0) === 1) Atomics.notify(control, WRITTEN)
  }

  /**
   * Resolves once the worker has hashed `target` segments (by default half of those it has not,
   * so that a main thread short of room wakes once per wait, not per segment) or failed. Never
   * blocks the thread.
   */
  async #progress(target?: number): Promise<void> {
    const control = this.#control
    const worker = this.#worker
    if (control === undefined || worker === undefined) {
      throw new LinkkitError('ERR_INTERNAL', 'DigestWorker waits with no worker')
    }
    const read = Atomics.load(control, READ)
    if (read === this.#written) return
    const wanted = Math.min(this.#written, target ?? read + Math.ceil((this.#written - read) / 2))
    // Another wait may be in progress (the ring's and the tap's): the nearer target wins; a stale one is replaced.
    const at = Atomics.load(control, NOTIFY_AT)
    if (at <= read || wanted < at) Atomics.store(control, NOTIFY_AT, wanted)
    this.#wake()
    const wait = waitAsync(control, READ, read)
    if (!wait.async) return
    // A pending waitAsync does not keep the event loop alive; the thread does while it is waited for.
    if (this.#refs++ === 0) worker.ref()
    try {
      await wait.value
    } finally {
      if (--this.#refs === 0 && this.#digest === undefined) worker.unref()
    }
  }

  #allocate(withRing: boolean): Uint8Array {
    const copyBytes = this.#o.batches * this.#o.batchBytes
    const shared = new SharedArrayBuffer(copyBytes + (withRing ? this.#o.ringBytes : 0))
    this.#data = new Uint8Array(shared)
    this.#control = new Int32Array(new SharedArrayBuffer((TABLE + 2 * this.#o.segments) * 4))
    this.#control[NOTIFY_AT] = NOBODY
    if (withRing) {
      this.#ring = sharedBodyRing(Buffer.from(shared, copyBytes, this.#o.ringBytes))
      this.#ring.follow(this)
    }
    return this.#data
  }

  /** Starts the thread; a failure to start is kept for the next call, never thrown here. */
  #start(withRing: boolean): Worker | undefined {
    if (this.#data === undefined) this.#allocate(withRing)
    let worker: Worker
    try {
      worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {
          ...this.#o,
          data: (this.#data as Uint8Array).buffer,
          control: (this.#control as Int32Array).buffer,
        },
        // The worker only hashes shared memory: a small heap suffices.
        resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 },
      })
    } catch (error) {
      this.#crashed(error instanceof Error ? error : new Error(String(error)))
      return undefined
    }
    countRunning(1)
    worker.unref()
    worker.once('exit', () => countRunning(-1))
    worker.on('message', (message: { digest?: Uint8Array }) => {
      if (message.digest !== undefined) this.#digested(Buffer.from(message.digest))
    })
    worker.on('error', (error) => this.#crashed(error))
    worker.on('messageerror', (error) => this.#crashed(error))
    worker.on('exit', (code) => this.#crashed(new Error(`the digest worker exited with code ${code}`)))
    this.#worker = worker
    return worker
  }

  #digested(digest: Buffer): void {
    const pending = this.#digest
    this.#digest = undefined
    pending?.resolve(digest)
    this.close()
  }

  #crashed(error: Error): void {
    if (this.#failure !== undefined) return
    this.#fail(
      new LinkkitError(
        'ERR_DIGEST_WORKER',
        `the worker thread computing the firmware's ${this.#o.algorithm} digest failed: ${error.message}`,
        { cause: error },
      ),
    )
  }

  #fail(error: LinkkitError): void {
    this.#failure = error
    this.#digest?.reject(error)
    this.#digest = undefined
    // Waits in progress (this side's and the ring's) wake up and see the failure.
    if (this.#control !== undefined) Atomics.notify(this.#control, READ)
    const worker = this.#worker
    if (worker !== undefined) {
      worker.removeAllListeners('message')
      // terminate() resolves once the thread is gone; nothing waits for it.
      void worker.terminate()
    }
  }
}
