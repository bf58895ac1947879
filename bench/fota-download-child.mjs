// One firmware download through linkkit's built packages, in its own process with no TypeScript
// loader, so its time and peak RSS are linkkit's own. It runs the path a device runs for
// `device.fota.download(offer)`: performFota (progress through the real ProgressReporter, whose
// MQTT publish is a no-op here) into FilePersistence (fsync and atomic rename by default).
//
// With `tap: 'sha256'` it also does what signature verification adds to an MD5 offer: a streaming
// SHA-256 of every byte the persistence receives, then one Ed25519 `crypto.verify` of the 32-byte
// digest. With `tap: 'verify'` (for a SHA256 offer) it only verifies the offer's own digest.
//
// Argument: one JSON object { url, size, signMethod, digest, path, fsync, tap, signature, publicKey }.
// Prints { ms (after the imports), peakRssMiB, tapMs, verifyMs } and, with `hashCpu`, the CPU time
// MD5 and SHA-256 take over as many bytes in 64 KiB updates (md5CpuMs, sha256CpuMs).
import { createHash, createPublicKey, verify } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createLogger } from '@linkkit/core'
import { FilePersistence } from '@linkkit/fota'
// Internal modules of the built package: the download path FotaClient runs, without an MQTT session.
import { performFota } from '../packages/fota/dist/perform.js'
import { ProgressReporter } from '../packages/fota/dist/progress.js'

const t0 = performance.now()
const job = JSON.parse(process.argv[2])
const offer = {
  version: 'bench',
  size: job.size,
  url: job.url,
  signMethod: job.signMethod,
  digest: job.digest,
}
const inner = new FilePersistence({ path: job.path, fsync: job.fsync })
let tapMs = 0
let sha256
const persistence =
  job.tap === 'sha256'
    ? {
        resumeOffset: (image) => inner.resumeOffset(image),
        readBack: (image, length) => inner.readBack(image, length),
        start: (image, offset) => {
          sha256 = createHash('sha256')
          return inner.start(image, offset)
        },
        write: (chunk, offset) => {
          const t = performance.now()
          sha256.update(chunk)
          tapMs += performance.now() - t
          return inner.write(chunk, offset)
        },
        stop: (outcome) => inner.stop(outcome),
      }
    : inner
const result = await performFota({
  offer,
  persistence,
  reporter: new ProgressReporter(async () => {}),
  onProgress: () => {},
  tuning: { allowHttp: true },
  logger: createLogger(undefined, 'bench'),
})
let verifyMs = 0
if (job.tap === 'sha256' || job.tap === 'verify') {
  const t = performance.now()
  const digest = job.tap === 'sha256' ? sha256.digest() : Buffer.from(result.files[0].digest, 'hex')
  const ok = verify(null, digest, createPublicKey(job.publicKey), Buffer.from(job.signature, 'base64'))
  verifyMs = performance.now() - t
  if (!ok) throw new Error('signature did not verify')
}
const ms = performance.now() - t0
const peakRssMiB = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024

/** CPU time of hashing `size` bytes in 64 KiB updates: what the digest check costs the main thread. */
function hashCpuMs(algorithm) {
  const block = Buffer.alloc(64 * 1024, 0x5a)
  const hash = createHash(algorithm)
  const t = performance.now()
  for (let done = 0; done < job.size; done += block.length) {
    hash.update(done + block.length <= job.size ? block : block.subarray(0, job.size - done))
  }
  hash.digest()
  return performance.now() - t
}
const cpu = job.hashCpu ? { md5CpuMs: hashCpuMs('md5'), sha256CpuMs: hashCpuMs('sha256') } : {}
console.log(JSON.stringify({ ms, peakRssMiB, tapMs, verifyMs, bytes: result.bytes, ...cpu }))
