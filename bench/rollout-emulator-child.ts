// The emulator side of the rollout bench, in a process of its own: starts the emulator (options
// as JSON on stdin's first line), prints its URLs, and on the line `go` adds a firmware and runs
// a staged rollout of it to every device: it resumes the rollout once the threshold paused it and
// the upgrades under way ended. It closes at stdin's end. Before and after it, as a baseline, every device gets another
// image pushed by hand, as many at a time as the rollout's maxConcurrent. Prints one JSON line of figures, taken from the rollout's events.
import { createInterface } from 'node:readline'
import { Emulator, type EmulatorOptions, type OtaJob, type OtaRollout } from '@linkkit/emulator'

interface Plan {
  emulator: EmulatorOptions
  productKey: string
  imageBytes: number
  maxConcurrent: number
  pauseOnFailure: string
}

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
const plan = JSON.parse(String((await lines.next()).value)) as Plan
const emu = await Emulator.start(plan.emulator)
console.log(JSON.stringify({ mqttUrl: emu.mqttUrl, httpUrl: emu.httpUrl }))
await lines.next()

const data = new Uint8Array(plan.imageBytes).map((_, i) => (i * 31 + 7) % 251)

// The baseline: the same upgrades pushed by hand, maxConcurrent at a time, no rollout; run before
// and after the rollout (B, R, B), so warm-up and drift weigh on both alike.
const names = [...emu.registry.all()].map((d) => d.deviceName)
async function byHand(version: string): Promise<number> {
  const handFirmware = await emu.ota.addFirmware({ productKey: plan.productKey, version, data })
  const handStart = performance.now()
  await new Promise<void>((resolve, reject) => {
    let next = 0
    let active = 0
    const ended = new Set(['succeeded', 'failed', 'canceled'])
    const mine = new Set<string>()
    const onJob = (job: OtaJob) => {
      if (!mine.has(job.id) || !ended.has(job.status)) return
      mine.delete(job.id)
      active--
      pushNext()
    }
    const pushNext = () => {
      while (active < plan.maxConcurrent && next < names.length) {
        active++
        const deviceName = names[next++] as string
        emu.ota
          .push({ productKey: plan.productKey, deviceName, firmware: handFirmware })
          .then((job) => mine.add(job.id), reject)
      }
      if (active === 0 && next === names.length) {
        emu.ota.off('ota:job', onJob)
        resolve()
      }
    }
    emu.ota.on('ota:job', onJob)
    pushNext()
  })
  return performance.now() - handStart
}
const handBeforeMs = await byHand('1.5.0')

const firmware = await emu.ota.addFirmware({ productKey: plan.productKey, version: '2.0.0', data })
let peakActive = 0
let id = ''
emu.ota.on('ota:rollout', (r: OtaRollout) => {
  if (r.id === id || id === '') peakActive = Math.max(peakActive, r.counts.active)
})
const t0 = performance.now()
const started = await emu.ota.rollout({
  productKey: plan.productKey,
  firmware,
  percent: 100,
  maxConcurrent: plan.maxConcurrent,
  pauseOnFailure: plan.pauseOnFailure,
})
id = started.id
const paused = await emu.ota.rollouts.waitFor(id, 'paused', 10 * 60_000)
const pauseMs = performance.now() - t0
// Paused: no upgrade starts, those under way end. The operator resumes once they did.
const drained = await new Promise<OtaRollout>((resolve) => {
  const check = (r: OtaRollout | undefined) => {
    if (r?.id !== id || r.counts.active > 0) return
    emu.ota.off('ota:rollout', check)
    resolve(r)
  }
  emu.ota.on('ota:rollout', check)
  check(emu.ota.rollouts.get(id))
})
const drainMs = performance.now() - t0
// A rollout whose queue was empty at the pause completes once those end: nothing to resume.
const resumed = drained.status === 'paused'
if (resumed) await emu.ota.rollouts.resume(id)
const resumedAt = performance.now()
const done = await emu.ota.rollouts.waitFor(id, 'completed', 10 * 60_000)
const resumeToDoneMs = performance.now() - resumedAt
const jobs: Record<string, string> = {}
for (const [deviceName, jobId] of Object.entries(done.jobs)) {
  jobs[deviceName] = emu.ota.job(jobId)?.status ?? 'unknown'
}
const requests = emu.ota.stats(firmware).requests
const handAfterMs = await byHand('3.0.0')
console.log(
  JSON.stringify({
    handMs: [handBeforeMs, handAfterMs],
    threshold: started.failureThreshold,
    pauseMs,
    pausedReason: paused.pausedReason,
    atPause: paused.counts,
    drainMs,
    resumed,
    atResume: drained.counts,
    resumeToDoneMs,
    final: done.counts,
    peakActive,
    requests,
    jobs,
  }),
)
// The fleet closes first: then the emulator drops no device's connection.
await lines.next()
await emu.close()
