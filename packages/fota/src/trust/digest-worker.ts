import { createHash, type Hash } from 'node:crypto'
import { Worker } from 'node:worker_threads'
import { LinkkitError } from '@linkkit/core'

/**
 * The worker's whole program (CommonJS, `eval`), kept inline so the built package and the sources
 * under test start the same code with no file to resolve. It hashes each batch it is handed and
 * hands the batch's buffer back for reuse; `null` asks for the digest. Anything it throws ends the
 * thread, which the main side turns into `ERR_DIGEST_WORKER`.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const hash = require('node:crypto').createHash(workerData.algorithm)
parentPort.on('message', (message) => {
  if (message === null) {
    parentPort.postMessage({ digest: hash.digest() })
    return
  }
  hash.update(new Uint8Array(message.bytes, 0, message.length))
  parentPort.postMessage({ bytes: message.bytes }, [message.bytes])
})
`

/** Tuning of a {@link DigestWorker}; the defaults suit a firmware download. */
export interface DigestWorkerOptions {
  /**
   * Node hash algorithm.
   * @default 'sha256'
   */
  algorithm?: string
  /**
   * Bytes copied into one batch before it is handed to the worker: one message per batch each
   * way, so fewer, larger batches cost the main thread less (docs/performance.md, "FOTA").
   * @default 1048576
   */
  batchBytes?: number
  /**
   * Batches at most in memory (filling, in flight, or waiting for reuse). When all are out,
   * `update` waits for the worker to hand one back: the memory is bounded whatever the speed of
   * the two threads.
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
 * time. Here the main thread only copies each chunk into a batch (never holding more than
 * `batches × batchBytes`) and transfers full batches; the hash runs on the other core.
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
  readonly #free: ArrayBuffer[] = []
  #allocated = 0
  #batch: Uint8Array | undefined
  #fill = 0
  #worker: Worker | undefined
  #failure: LinkkitError | undefined
  #waiters: Waiter[] = []
  #digest: { resolve: (digest: Buffer) => void; reject: (error: LinkkitError) => void } | undefined
  #finishing = false

  constructor(options: DigestWorkerOptions = {}) {
    this.#algorithm = options.algorithm ?? 'sha256'
    this.#batchBytes = options.batchBytes ?? 1024 * 1024
    this.#batches = Math.max(2, options.batches ?? 3)
    if ((options.expectedBytes ?? 0) > this.#batchBytes) this.#start()
  }

  /**
   * Hashes `chunk` after the bytes before it. Returns a promise only when it must wait for a
   * batch to come back from the worker; the caller awaits it before the next `update` and may
   * reuse `chunk` once `update` returned (its bytes are copied).
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
      if (this.#batch !== undefined) hash.update(this.#batch.subarray(0, this.#fill))
      this.#batch = undefined
      return hash.digest()
    }
    if (this.#batch !== undefined && this.#fill > 0) this.#post()
    const worker = this.#worker
    const digest = new Promise<Buffer>((resolve, reject) => {
      this.#digest = { resolve, reject }
    })
    worker.ref()
    worker.postMessage(null)
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
    let offset = from
    while (offset < chunk.length) {
      if (this.#batch === undefined) {
        const buffer = this.#take()
        if (buffer === undefined) return this.#copyLater(chunk, offset)
        this.#batch = new Uint8Array(buffer)
        this.#fill = 0
      }
      const n = Math.min(chunk.length - offset, this.#batch.length - this.#fill)
      this.#batch.set(chunk.subarray(offset, offset + n), this.#fill)
      this.#fill += n
      offset += n
      if (this.#fill === this.#batch.length) this.#post()
    }
    return undefined
  }

  async #copyLater(chunk: Uint8Array, offset: number): Promise<void> {
    await this.#bufferReturned()
    this.#assertUsable()
    await this.#copy(chunk, offset)
  }

  #take(): ArrayBuffer | undefined {
    const reused = this.#free.pop()
    if (reused !== undefined) return reused
    if (this.#allocated === this.#batches) return undefined
    this.#allocated += 1
    return new ArrayBuffer(this.#batchBytes)
  }

  #bufferReturned(): Promise<void> {
    const worker = this.#worker
    if (worker === undefined) {
      return Promise.reject(new LinkkitError('ERR_INTERNAL', 'DigestWorker waits with no worker'))
    }
    worker.ref()
    return new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }))
  }

  #post(): void {
    const batch = this.#batch as Uint8Array
    const bytes = batch.buffer as ArrayBuffer
    this.#batch = undefined
    const worker = this.#worker ?? this.#start()
    if (worker === undefined) throw this.#failure
    worker.postMessage({ bytes, length: this.#fill }, [bytes])
  }

  /** Starts the thread; a failure to start is kept for the next call, never thrown here. */
  #start(): Worker | undefined {
    let worker: Worker
    try {
      worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { algorithm: this.#algorithm },
        // The worker hashes and holds batches it is handed (external memory): a small heap suffices.
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
    worker.on('message', (message: { bytes?: ArrayBuffer; digest?: Uint8Array }) => {
      if (message.bytes !== undefined) this.#returned(message.bytes)
      else if (message.digest !== undefined) this.#digested(Buffer.from(message.digest))
    })
    worker.on('error', (error) => this.#crashed(error))
    worker.on('messageerror', (error) => this.#crashed(error))
    worker.on('exit', (code) => this.#crashed(new Error(`the digest worker exited with code ${code}`)))
    this.#worker = worker
    return worker
  }

  #returned(bytes: ArrayBuffer): void {
    if (this.#failure !== undefined) return
    this.#free.push(bytes)
    const waiter = this.#waiters.shift()
    if (this.#waiters.length === 0 && this.#digest === undefined) this.#worker?.unref()
    waiter?.resolve()
  }

  #digested(digest: Buffer): void {
    const pending = this.#digest
    this.#digest = undefined
    pending?.resolve(digest)
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
    const waiters = this.#waiters
    this.#waiters = []
    for (const waiter of waiters) waiter.reject(error)
    this.#digest?.reject(error)
    this.#digest = undefined
    this.#batch = undefined
    this.#free.length = 0
    const worker = this.#worker
    if (worker !== undefined) {
      worker.removeAllListeners('message')
      // terminate() resolves once the thread is gone; nothing waits for it.
      void worker.terminate()
    }
  }
}
