// What an MD5 offer's second digest (the SHA-256 a signature needs) costs the download's thread,
// apart from any download: `size` bytes of 64 KiB chunks go through a download's body ring as fast
// as it takes them (each chunk copied into the ring, as from the socket's read buffer, and lent to
// the loop), three ways: the ring alone (what an unsigned download does), the DigestWorker's shared
// ring with each lent chunk handed to the worker in place (the SignatureTap's path), and the plain
// ring with an inline hash of each chunk (what `firmware.trust.digestWorker: false` does). The
// second digest's cost is each way's CPU minus the ring alone's. The main thread's own CPU time
// comes from its scheduler statistics, so a busy machine does not inflate it.
// Argument: one JSON object { size }. Prints { workerCpuMs, workerWallMs, inlineCpuMs, inlineWallMs, ringCpuMs }.
import { createHash, randomFillSync } from 'node:crypto'
import { readFileSync } from 'node:fs'

const { DigestWorker } = await import('../packages/fota/dist/trust/digest-worker.js')
const { BodyRing } = await import('../packages/fota/dist/download/body-ring.js')
const { size } = JSON.parse(process.argv[2])
const CHUNK = 64 * 1024
const threadCpuMs = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6
const chunks = Array.from({ length: 64 }, () => randomFillSync(Buffer.alloc(CHUNK)))

/** `ring` as a download fills and lends it; `hash` (optional) gets each lent chunk, as the tap does. */
async function feed(ring, hash) {
  const cpu0 = threadCpuMs()
  const t0 = performance.now()
  for (let offset = 0, i = 0; offset < size; offset += CHUNK, i++) {
    // A download's socket stays paused while the ring has no room (the worker holds it).
    while (ring.free < CHUNK) await ring.progress()
    ring.write(chunks[i & 63])
    const loan = ring.take()
    const wait = hash?.update(loan)
    if (wait !== undefined) await wait
    // Let the event loop turn now and then, as a download does between socket reads.
    if ((i & 15) === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  ring.take()
  await hash?.digest()
  return { cpuMs: threadCpuMs() - cpu0, wallMs: performance.now() - t0 }
}

const plainRing = () => new BodyRing(1024 * 1024, 256 * 1024)
const ringOnly = await feed(plainRing())
const digest = new DigestWorker({ expectedBytes: size })
const worker = await feed(digest.ring, digest)
const hash = createHash('sha256')
const inline = await feed(plainRing(), {
  update: (chunk) => {
    hash.update(chunk)
  },
  digest: async () => hash.digest(),
})
console.log(
  JSON.stringify({
    ringCpuMs: ringOnly.cpuMs,
    workerCpuMs: worker.cpuMs - ringOnly.cpuMs,
    workerWallMs: worker.wallMs,
    inlineCpuMs: inline.cpuMs - ringOnly.cpuMs,
    inlineWallMs: inline.wallMs,
  }),
)
