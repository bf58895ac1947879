/**
 * The protocol between a {@link DigestWorker} and its thread: control words in one shared
 * `Int32Array`, then a table of segments (offset, length) into the shared data, which the main
 * thread publishes in order and the worker hashes in order.
 */
export const WRITTEN = 0 // segments published (the main thread writes)
export const READ = 1 // segments hashed (the worker writes, then notifies it)
export const SLEEPING = 2 // 1: the worker waits, or is about to, on WRITTEN
export const READ_BYTES = 3 // bytes hashed, modulo 2^32 (the worker writes)
export const NOTIFY_AT = 4 // the worker notifies READ once it reaches this (a main thread waits for it)
/** NOTIFY_AT when nobody waits. */
export const NOBODY = 0x7fffffff
export const TABLE = 5 // first word of the segment table: [offset, length] per segment
/** A segment of this length is the end: the worker posts the digest and exits. */
export const FINISH = -1

/**
 * The worker's whole program (CommonJS, `eval`), kept inline so the built package and the sources
 * under test start the same code with no file to resolve. It hashes each published segment in
 * place and counts it read; once it reaches NOTIFY_AT it notifies READ, which wakes a main thread
 * waiting for room (`Atomics.waitAsync`): one wake per wait, not per segment. With nothing left it
 * sets SLEEPING, looks once more, and naps on WRITTEN for `napMs`, twice as long after each empty
 * nap up to `maxNapMs`: a download that streams finds it back at work within a nap without
 * waking it, so the main thread pays no futex wake per batch (each can take it off its core on a
 * busy machine). The main side wakes a sleeping worker only when it waits for it, once many bytes
 * wait, and for the digest. `delayMs` and `exitAfterBytes` (tests only) make it slow, or die
 * mid-image. Anything it throws ends the thread, which the main side turns into `ERR_DIGEST_WORKER`.
 */
export const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { algorithm, data, control, segments, napMs, maxNapMs, delayMs, exitAfterBytes } = workerData
const hash = require('node:crypto').createHash(algorithm)
const words = new Int32Array(control)
const bytes = new Uint8Array(data)
const nap = new Int32Array(new SharedArrayBuffer(4))
let read = 0
let readBytes = 0
let napFor = napMs
for (;;) {
  if (Atomics.load(words, ${WRITTEN}) !== read) {
    const at = ${TABLE} + 2 * (read % segments)
    const offset = words[at]
    const length = words[at + 1]
    if (length === ${FINISH}) {
      parentPort.postMessage({ digest: hash.digest() })
      break
    }
    if (delayMs > 0) Atomics.wait(nap, 0, 0, delayMs)
    if (exitAfterBytes >= 0 && readBytes >= exitAfterBytes) process.exit(3)
    hash.update(bytes.subarray(offset, offset + length))
    read += 1
    readBytes = (readBytes + length) | 0
    Atomics.store(words, ${READ_BYTES}, readBytes)
    Atomics.store(words, ${READ}, read)
    if (read >= Atomics.load(words, ${NOTIFY_AT})) Atomics.notify(words, ${READ})
  } else {
    Atomics.store(words, ${SLEEPING}, 1)
    if (Atomics.load(words, ${WRITTEN}) === read) Atomics.wait(words, ${WRITTEN}, read, napFor)
    Atomics.store(words, ${SLEEPING}, 0)
    napFor = Atomics.load(words, ${WRITTEN}) === read ? Math.min(maxNapMs, napFor * 2) : napMs
  }
}
`
