// One firmware download through linkkit's built packages, in its own process with no TypeScript
// loader, so its time and peak RSS are linkkit's own. It runs the path a device runs for
// `device.fota.download(offer)`: performFota (progress through the real ProgressReporter, whose
// MQTT publish is a no-op here) into FilePersistence (fsync and atomic rename by default).
//
// Signature verification (issue 13) runs the device's own path: the offer carries an Ed25519
// signature in `extData`, `performFota` gets the checked signature and feeds its SignatureTap. With
// `tap: 'verify'` (a SHA256 offer) the digest is the offer's own, so verification adds only the
// verify call; with `tap: 'sha256'` (an MD5 offer) the tap computes the image's SHA-256 on a worker
// thread as the bytes pass. The tap's methods are wrapped to time what they cost the download's
// thread: each `update` (handing the chunk, a view of the download's ring, to the worker, or a
// wait when its segment table is full) and `verify` (the wait for the worker's last bytes and
// digest, then the Ed25519 verify). `digestCounts` says how many bytes the worker hashed in
// place and how many were copied, and how often the ring waited for the worker. A P-256
// verify of the same digest is timed apart (`p256Ms`), as a device trusting a P-256 key pays it
// instead. With `tap: 'sha256-main'` the offer is unsigned and the persistence hashes SHA-256 on
// the main thread as each chunk is written: what an MD5 offer's signature cost before the worker.
//
// With `withMqtt` MQTT.js is loaded first, as it is in a connected device's process.
//
// Argument: one JSON object { url, size, signMethod, digest, path, fsync, tap, keys, withMqtt, hashCpu }.
// Prints { ms (after the imports), cpuMs (whole process), activeMs (main thread busy, from its event
// loop utilization), mainCpuMs (the main thread's own CPU time, from /proc/thread-self/schedstat),
// peakRssMiB, tapMs, ed25519Ms, p256Ms } and, with `hashCpu`, the CPU time MD5 and SHA-256 take
// over as many bytes in 64 KiB updates.
import { createHash, createPublicKey, verify } from 'node:crypto'
import { readFileSync } from 'node:fs'

const job = JSON.parse(process.argv[2])
if (job.withMqtt) await import('mqtt')
const { createLogger } = await import('@linkkit/core')
const { FilePersistence } = await import('@linkkit/fota')
// Internal modules of the built package: the download path FotaClient runs, without an MQTT session.
const { performFota } = await import('../packages/fota/dist/perform.js')
const { ProgressReporter } = await import('../packages/fota/dist/progress.js')
const { SignatureTap } = await import('../packages/fota/dist/trust/signature-tap.js')
const { offerSignatures } = await import('../packages/fota/dist/trust/offer-signature.js')
const { TrustKeys } = await import('../packages/fota/dist/trust/trust-keys.js')
const { digestWorkerCounts } = await import('../packages/fota/dist/trust/digest-worker.js')

let tapMs = 0
let tapWaitMs = 0
let verifyMs = 0
const update = SignatureTap.prototype.update
SignatureTap.prototype.update = function (chunk) {
  const t = performance.now()
  const wait = update.call(this, chunk)
  const returned = performance.now()
  tapMs += returned - t
  if (wait === undefined) return undefined
  return wait.finally(() => {
    const waited = performance.now() - returned
    tapMs += waited
    tapWaitMs += waited
  })
}
const tapVerify = SignatureTap.prototype.verify
SignatureTap.prototype.verify = async function (digestHex) {
  const t = performance.now()
  try {
    return await tapVerify.call(this, digestHex)
  } finally {
    verifyMs += performance.now() - t
  }
}

/** On-CPU time of this (the main) thread, from the scheduler: what the download's thread did, free of waits. */
const threadCpuMs = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6
const t0 = performance.now()
const cpu0 = threadCpuMs()
/** The main thread's context switches (voluntary: it waited; involuntary: it was preempted). */
const switches = () => {
  const status = readFileSync('/proc/thread-self/status', 'utf8')
  return {
    voluntary: Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)[1]),
    preempted: Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)[1]),
  }
}
const switches0 = switches()
const elu0 = performance.eventLoopUtilization()
const signed = job.tap === 'sha256' || job.tap === 'verify'
const offer = {
  version: 'bench',
  size: job.size,
  url: job.url,
  signMethod: job.signMethod,
  digest: job.digest,
  ...(signed
    ? {
        extData: {
          signature: job.keys.ed25519.signature,
          signatureAlgorithm: 'ed25519',
          signatureKeyId: 'k1',
        },
      }
    : {}),
}
const signatures = signed
  ? offerSignatures(offer, new TrustKeys({ keys: { k1: job.keys.ed25519.publicKey } }))
  : undefined
const inner = new FilePersistence({ path: job.path, fsync: job.fsync })
let sha256
const persistence =
  job.tap === 'sha256-main'
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
  ...(signatures === undefined ? {} : { signatures }),
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
if (job.tap === 'sha256-main') {
  const t = performance.now()
  const digest = sha256.digest()
  tapMs += performance.now() - t
  verified.ed25519Ms = timedVerify(digest, job.keys.ed25519)
  verified.p256Ms = timedVerify(digest, job.keys.p256)
} else if (signed) {
  // The tap's verify (the Ed25519 one) was timed inside the download; P-256 is timed apart.
  verified.ed25519Ms = verifyMs
  verified.p256Ms = timedVerify(Buffer.from(job.sha256, 'hex'), job.keys.p256)
}
const ms = performance.now() - t0
const activeMs = performance.eventLoopUtilization(elu0).active
const mainCpuMs = threadCpuMs() - cpu0
const switches1 = switches()
const mainSwitches = {
  voluntary: switches1.voluntary - switches0.voluntary,
  preempted: switches1.preempted - switches0.preempted,
}
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
console.log(
  JSON.stringify({
    ms,
    cpuMs,
    activeMs,
    mainCpuMs,
    mainSwitches,
    tapWaitMs,
    digestCounts: digestWorkerCounts(),
    peakRssMiB,
    tapMs,
    ...verified,
    bytes: result.bytes,
    ...hashes,
  }),
)
