// What an MD5 offer's second digest (the SHA-256 a signature needs) costs the download's thread,
// apart from any download: `size` bytes of 64 KiB chunks fed as fast as the digest takes them,
// through the DigestWorker the SignatureTap uses (copies into shared batches, hashed on a worker
// thread) and through an inline hash (what `firmware.trust.digestWorker: false` does). The main
// thread's own CPU time comes from its scheduler statistics, so a busy machine does not inflate it.
// Argument: one JSON object { size }. Prints { workerCpuMs, workerWallMs, inlineCpuMs, inlineWallMs }.
import { createHash, randomFillSync } from 'node:crypto'
import { readFileSync } from 'node:fs'

const { DigestWorker } = await import('../packages/fota/dist/trust/digest-worker.js')
const { size } = JSON.parse(process.argv[2])
const threadCpuMs = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6
const chunks = Array.from({ length: 64 }, () => randomFillSync(Buffer.alloc(64 * 1024)))

async function feed(hash) {
  const cpu0 = threadCpuMs()
  const t0 = performance.now()
  for (let offset = 0, i = 0; offset < size; offset += 65_536, i++) {
    const wait = hash.update(chunks[i & 63])
    if (wait !== undefined) await wait
    // Let the event loop turn now and then, as a download does between socket reads.
    if ((i & 15) === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  await hash.digest()
  return { cpuMs: threadCpuMs() - cpu0, wallMs: performance.now() - t0 }
}

const worker = await feed(new DigestWorker({ expectedBytes: size }))
const inline = await feed(createHash('sha256'))
console.log(
  JSON.stringify({
    workerCpuMs: worker.cpuMs,
    workerWallMs: worker.wallMs,
    inlineCpuMs: inline.cpuMs,
    inlineWallMs: inline.wallMs,
  }),
)
