// One firmware download through linkkit's built packages, in its own process with no TypeScript
// loader, so its time and peak RSS are linkkit's own. It runs the path a device runs for
// `device.fota.download(offer)`: performFota (progress through the real ProgressReporter, whose
// MQTT publish is a no-op here) into FilePersistence (fsync and atomic rename by default).
//
// Signature verification (issue 13) is measured with the tap the device uses: the signed message
// is the 32-byte SHA-256 digest of the image, verified with node:crypto. With `tap: 'verify'` (a
// SHA256 offer) the digest is the offer's own, so verification adds only the verify calls; with
// `tap: 'sha256'` (an MD5 offer) a streaming SHA-256 of every byte the persistence receives is
// added, then the verify calls. Both an Ed25519 and an ECDSA P-256 signature are verified, each timed.
//
// With `withMqtt` MQTT.js is loaded first, as it is in a connected device's process.
//
// Argument: one JSON object { url, size, signMethod, digest, path, fsync, tap, keys, withMqtt, hashCpu }.
// Prints { ms (after the imports), cpuMs (whole process), peakRssMiB, tapMs, ed25519Ms, p256Ms } and,
// with `hashCpu`, the CPU time MD5 and SHA-256 take over as many bytes in 64 KiB updates.
import { createHash, createPublicKey, verify } from 'node:crypto'
import { readFileSync } from 'node:fs'

const job = JSON.parse(process.argv[2])
if (job.withMqtt) await import('mqtt')
const { createLogger } = await import('@linkkit/core')
const { FilePersistence } = await import('@linkkit/fota')
// Internal modules of the built package: the download path FotaClient runs, without an MQTT session.
const { performFota } = await import('../packages/fota/dist/perform.js')
const { ProgressReporter } = await import('../packages/fota/dist/progress.js')

const t0 = performance.now()
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

/** Verifies one signature of the digest; returns the time it took (key parsing included). */
function timedVerify(digest, { algorithm, publicKey, signature }) {
  const t = performance.now()
  const key = createPublicKey(publicKey)
  const ok = verify(algorithm === 'ed25519' ? null : 'sha256', digest, key, Buffer.from(signature, 'base64'))
  const spent = performance.now() - t
  if (!ok) throw new Error(`${algorithm} signature did not verify`)
  return spent
}

const verified = {}
if (job.tap === 'sha256' || job.tap === 'verify') {
  const t = performance.now()
  const digest = job.tap === 'sha256' ? sha256.digest() : Buffer.from(result.files[0].digest, 'hex')
  tapMs += performance.now() - t
  verified.ed25519Ms = timedVerify(digest, job.keys.ed25519)
  verified.p256Ms = timedVerify(digest, job.keys.p256)
}
const ms = performance.now() - t0
const cpu = process.cpuUsage()
const cpuMs = (cpu.user + cpu.system) / 1000
const peakRssMiB = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024

/** CPU time of hashing `size` bytes in 64 KiB updates: what a digest costs the main thread. */
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
const hashes = job.hashCpu ? { md5CpuMs: hashCpuMs('md5'), sha256CpuMs: hashCpuMs('sha256') } : {}
console.log(JSON.stringify({ ms, cpuMs, peakRssMiB, tapMs, ...verified, bytes: result.bytes, ...hashes }))
