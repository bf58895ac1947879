// About 300 lines on purpose: the worker's program (a string) and the main side speak one protocol
// over the shared control words, and reading both in one file is what keeps them in step.
import { createHash, type Hash } from 'node:crypto'
import { Worker } from 'node:worker_threads'
import { LinkkitError } from '@linkkit/core'

/** Slots of the control words shared with the worker (an Int32Array over a SharedArrayBuffer). */
const SEQ = 0 // bumped after every change below, so a worker about to sleep never misses one
const WRITTEN = 1 // batches handed over (the main thread writes)
const READ = 2 // batches hashed (the worker writes)
const FINISH = 3 // 1: no batch will follow, send the digest
const WAITING = 4 // 1: the main thread waits for a free batch, tell it when one is
const CONTROL_WORDS = 5

/**
 * The worker's whole program (CommonJS, `eval`), kept inline so the built package and the sources
 * under test start the same code with no file to resolve. Batches live in a ring of shared memory:
 * the worker sleeps on the control words (`Atomics.wait`), hashes each batch handed over, counts it
 * read, and posts a message only to wake a main thread that waits for room, and with the digest.
 * Anything it throws ends the thread, which the main side turns into `ERR_DIGEST_WORKER`.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { algorithm, ring, control, lengths, batchBytes } = workerData
const hash = require('node:crypto').createHash(algorithm)
const words = new Int32Array(control)
const sizes = new Int32Array(lengths)
const batches = sizes.length
let read = 0
for (;;) {
  const seq = Atomics.load(words, ${SEQ})
  if (Atomics.load(words, ${WRITTEN}) > read) {
    const slot = read % batches
    hash.update(new Uint8Array(ring, slot * batchBytes, sizes[slot]))
    read += 1
    Atomics.store(words, ${READ}, read)
    if (Atomics.exchange(words, ${WAITING}, 0) === 1) parentPort.postMessage('room')
  } else if (Atomics.load(words, ${FINISH}) === 1) {
    parentPort.postMessage({ digest: hash.digest() })
    break
  } else {
    Atomics.wait(words, ${SEQ}, seq)
  }
}
`

/** Tuning of a {@link DigestWorker}; the defaults suit a firmware download. */
export interface DigestWorkerOptions {
  /**
   * Node hash algorithm.
   * @default 'sha256'
   */
  algorithm?: string
  /**
   * Bytes copied into one batch before it is handed to the worker (one wake-up of the worker per
   * batch; docs/performance.md, "FOTA download").
   * @default 1048576
   */
  batchBytes?: number
  /**
   * Batches in the shared ring (`batches × batchBytes` of memory, allocated once). When the
   * worker has not yet hashed any of them, `update` waits for it: the memory is bounded whatever
   * the speed of the two threads.
   * @default 3
   */
  batches?: number
  /**
   * Bytes the caller expects to hash. When they fill more than one batch the worker starts at
   * once, so its start-up (tens of ms) overlaps the request rather than the first batches.
   */
  expectedBytes?: number
}

/** Digest threads alive in this process (started, not yet exited). */
let running = 0

/** How many digest worker threads are alive: a diagnostic, and how tests see that one was ended. */
export function runningDigestWorkers(): number {
  return running
}

interface Waiter {
  resolve: () => void
  reject: (error: LinkkitError) => void
}

/**
 * A streaming hash computed on a worker thread, fed in order with the bytes of a download.
 *
 * Why a thread: a signature over an MD5 offer needs the image's SHA-256 on top of the MD5 the
 * download computes, and on the main thread that second pass cost about a tenth of the download's
 * time. Here the main thread only copies each chunk into a ring of batches in shared memory
 * (`batches × batchBytes`, allocated once) and bumps a counter the worker sleeps on; the hash runs
 * on the other core. Handing batches over by `postMessage` (transferring each batch and getting
 * it back) cost the main thread several times more in a real download, and allocating per batch
 * would add to the garbage a download already makes.
 *
 * A hash whose bytes never fill one batch is computed on the main thread and starts no worker.
 * The worker is `unref()`'d except while the main side waits for it, so a forgotten one never
 * keeps the process alive; `close()` terminates it. A worker that cannot start, throws or exits
 * fails every later `update` and `digest` with `ERR_DIGEST_WORKER`, and any wait in progress.
 */
export class DigestWorker {
  readonly #algorithm: string
  readonly #batchBytes: number
  readonly #batches: number
  #ring: Uint8Array | undefined
  #control: Int32Array | undefined
  #lengths: Int32Array | undefined
  /** Batches handed to the worker so far. */
  #written = 0
  /** Bytes in the batch being filled (slot `#written % #batches`). */
  #fill = 0
  #worker: Worker | undefined
  #failure: LinkkitError | undefined
  #waiter: Waiter | undefined
  #digest: { resolve: (digest: Buffer) => void; reject: (error: LinkkitError) => void } | undefined
  #finishing = false

  constructor(options: DigestWorkerOptions = {}) {
    this.#algorithm = options.algorithm ?? 'sha256'
    this.#batchBytes = options.batchBytes ?? 1024 * 1024
    this.#batches = Math.max(2, options.batches ?? 3)
    if ((options.expectedBytes ?? 0) > this.#batchBytes) this.#start()
  }

  /**
   * Hashes `chunk` after the bytes before it. Returns a promise only when it must wait for the
   * worker to free a batch; the caller awaits it before the next `update` and may reuse `chunk`
   * once `update` returned (its bytes are copied).
   */
  update(chunk: Uint8Array): Promise<void> | undefined {
    this.#assertUsable()
    return this.#copy(chunk, 0)
  }

  /** The digest of every byte given, once; then the worker is gone. */
  async digest(): Promise<Buffer> {
    this.#assertUsable()
    this.#finishing = true
    if (this.#worker === undefined) {
      // Everything fitted in the first batch: hashing it here is cheaper than starting a thread.
      const hash: Hash = createHash(this.#algorithm)
      if (this.#ring !== undefined) hash.update(this.#ring.subarray(0, this.#fill))
      return hash.digest()
    }
    if (this.#fill > 0) this.#handOver()
    const worker = this.#worker
    const control = this.#control as Int32Array
    const digest = new Promise<Buffer>((resolve, reject) => {
      this.#digest = { resolve, reject }
    })
    worker.ref()
    Atomics.store(control, FINISH, 1)
    this.#wake()
    try {
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

  #assertUsable(): void {
    if (this.#failure !== undefined) throw this.#failure
    if (this.#finishing) throw new LinkkitError('ERR_INTERNAL', 'DigestWorker used after digest()')
  }

  #copy(chunk: Uint8Array, from: number): Promise<void> | undefined {
    const ring = this.#ring ?? this.#allocate()
    let offset = from
    while (offset < chunk.length) {
      if (this.#fill === 0 && !this.#hasRoom()) return this.#copyLater(chunk, offset)
      const n = Math.min(chunk.length - offset, this.#batchBytes - this.#fill)
      const at = (this.#written % this.#batches) * this.#batchBytes + this.#fill
      ring.set(n === chunk.length ? chunk : chunk.subarray(offset, offset + n), at)
      this.#fill += n
      offset += n
      if (this.#fill === this.#batchBytes) this.#handOver()
    }
    return undefined
  }

  async #copyLater(chunk: Uint8Array, offset: number): Promise<void> {
    await this.#room()
    this.#assertUsable()
    await this.#copy(chunk, offset)
  }

  #allocate(): Uint8Array {
    this.#ring = new Uint8Array(new SharedArrayBuffer(this.#batches * this.#batchBytes))
    this.#control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4))
    this.#lengths = new Int32Array(new SharedArrayBuffer(this.#batches * 4))
    return this.#ring
  }

  /** Whether the batch after the last one handed over is free (the worker has hashed it). */
  #hasRoom(): boolean {
    return this.#control === undefined || this.#written - Atomics.load(this.#control, READ) < this.#batches
  }

  /** Resolves once the worker frees a batch (it posts `room` when it sees WAITING set). */
  #room(): Promise<void> {
    const worker = this.#worker
    const control = this.#control
    if (worker === undefined || control === undefined) {
      return Promise.reject(new LinkkitError('ERR_INTERNAL', 'DigestWorker waits with no worker'))
    }
    return new Promise<void>((resolve, reject) => {
      Atomics.store(control, WAITING, 1)
      // The worker may have freed a batch between the check and the flag: look again.
      if (this.#hasRoom()) {
        Atomics.store(control, WAITING, 0)
        resolve()
        return
      }
      worker.ref()
      this.#waiter = { resolve, reject }
    })
  }

  /** Hands the batch being filled to the worker, starting it when this is the first. */
  #handOver(): void {
    const worker = this.#worker ?? this.#start()
    if (worker === undefined) throw this.#failure
    const lengths = this.#lengths as Int32Array
    lengths[this.#written % this.#batches] = this.#fill
    this.#written += 1
    this.#fill = 0
    Atomics.store(this.#control as Int32Array, WRITTEN, this.#written)
    this.#wake()
  }

  #wake(): void {
    const control = this.#control as Int32Array
    Atomics.add(control, SEQ, 1)
    Atomics.notify(control, SEQ)
  }

  /** Starts the thread; a failure to start is kept for the next call, never thrown here. */
  #start(): Worker | undefined {
    if (this.#ring === undefined) this.#allocate()
    let worker: Worker
    try {
      worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {
          algorithm: this.#algorithm,
          ring: (this.#ring as Uint8Array).buffer,
          control: (this.#control as Int32Array).buffer,
          lengths: (this.#lengths as Int32Array).buffer,
          batchBytes: this.#batchBytes,
        },
        // The worker only hashes shared memory: a small heap suffices.
        resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 },
      })
    } catch (error) {
      this.#crashed(error instanceof Error ? error : new Error(String(error)))
      return undefined
    }
    running += 1
    worker.unref()
    worker.once('exit', () => {
      running -= 1
    })
    worker.on('message', (message: 'room' | { digest?: Uint8Array }) => {
      if (message === 'room') this.#roomMade()
      else if (message.digest !== undefined) this.#digested(Buffer.from(message.digest))
    })
    worker.on('error', (error) => this.#crashed(error))
    worker.on('messageerror', (error) => this.#crashed(error))
    worker.on('exit', (code) => this.#crashed(new Error(`the digest worker exited with code ${code}`)))
    this.#worker = worker
    return worker
  }

  #roomMade(): void {
    const waiter = this.#waiter
    this.#waiter = undefined
    if (this.#digest === undefined) this.#worker?.unref()
    waiter?.resolve()
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
        `the worker thread computing the firmware's ${this.#algorithm} digest failed: ${error.message}`,
        { cause: error },
      ),
    )
  }

  #fail(error: LinkkitError): void {
    this.#failure = error
    const waiter = this.#waiter
    this.#waiter = undefined
    waiter?.reject(error)
    this.#digest?.reject(error)
    this.#digest = undefined
    const worker = this.#worker
    if (worker !== undefined) {
      worker.removeAllListeners('message')
      // terminate() resolves once the thread is gone; nothing waits for it.
      void worker.terminate()
    }
  }
}
