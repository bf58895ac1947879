/**
 * `npm run bench -- rollout`: a staged rollout of a 1 MiB image to N simulated devices
 * (LINKKIT_ROLLOUT_N, default 1000), 5% of which fail their download half way (the fleet's `fail`
 * fault, step -4). The emulator runs in one child process and drives the rollout (maxConcurrent
 * 50, pauseOnFailure 3%); the fleet runs in another. The rollout pauses at its threshold; once the
 * upgrades under way ended the bench resumes it, and it completes. Prints the time to the pause,
 * the failures then, the time from resume to completion, the final counts by injected fault,
 * upgrades per second against a baseline run before and after it in the same processes (every
 * device gets another image pushed by hand, as many at a time as maxConcurrent, no rollout), the peak of
 * upgrades under way against maxConcurrent.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface, type Interface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { RolloutCounts as Counts } from '@linkkit/emulator'

const LAMP_TSL = fileURLToPath(new URL('../examples/lamp.tsl.json', import.meta.url))
const PK = 'a1RolloutBch'
const FAIL_SHARE = 0.05
const PAUSE_ON_FAILURE = '3%'
const IMAGE_BYTES = 1024 * 1024

interface EmulatorFigures {
  /** The baseline before and after the rollout. */
  handMs: [number, number]
  threshold: number
  pauseMs: number
  pausedReason: string
  atPause: Counts
  drainMs: number
  resumed: boolean
  atResume: Counts
  resumeToDoneMs: number
  final: Counts
  peakActive: number
  requests: number
  jobs: Record<string, string>
}

/** A child process whose stdout is read line by line. */
function child(script: string, args: string[]): { proc: ChildProcess; line: () => Promise<string> } {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=development', new URL(script, import.meta.url).pathname, ...args],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  )
  const rl: Interface = createInterface({ input: proc.stdout! })
  const queue: string[] = []
  const waiting: Array<{ resolve: (line: string) => void; reject: (e: Error) => void }> = []
  rl.on('line', (line) => {
    const next = waiting.shift()
    if (next) next.resolve(line)
    else queue.push(line)
  })
  proc.once('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`${script} exited with ${code}`))
  })
  const line = () =>
    queue.length > 0
      ? Promise.resolve(queue.shift() as string)
      : new Promise<string>((resolve, reject) => {
          if (proc.exitCode !== null) reject(new Error(`${script} exited with ${proc.exitCode}`))
          else waiting.push({ resolve, reject })
        })
  return { proc, line }
}

function exited(proc: ChildProcess): Promise<void> {
  return proc.exitCode !== null ? Promise.resolve() : new Promise((r) => proc.once('exit', () => r()))
}

export async function rolloutBench(): Promise<string[]> {
  const n = Number(process.env.LINKKIT_ROLLOUT_N ?? 1000)
  const MAX_CONCURRENT = Math.max(1, Math.min(50, Math.round(n / 20)))
  const devices = Array.from({ length: n }, (_, i) => ({
    productKey: PK,
    deviceName: `bench-${i}`,
    deviceSecret: `bench-secret-${i}`.padEnd(32, 'x'),
  }))
  const emu = child('./rollout-emulator-child.ts', [])
  let fleet: ReturnType<typeof child> | undefined
  try {
    emu.proc.stdin?.write(
      `${JSON.stringify({
        emulator: { devices, products: [{ productKey: PK, thingModel: LAMP_TSL }], requestTimeoutMs: 30_000 },
        productKey: PK,
        imageBytes: IMAGE_BYTES,
        maxConcurrent: MAX_CONCURRENT,
        pauseOnFailure: PAUSE_ON_FAILURE,
      })}\n`,
    )
    const { mqttUrl } = JSON.parse(await emu.line()) as { mqttUrl: string }
    fleet = child('./rollout-fleet-child.ts', [mqttUrl, String(n), LAMP_TSL, String(FAIL_SHARE), '7'])
    if ((await fleet.line()) !== 'connected') throw new Error('the fleet did not connect')
    emu.proc.stdin?.write('go\n')
    const e = JSON.parse(await emu.line()) as EmulatorFigures
    fleet.proc.stdin?.end()
    const f = JSON.parse(await fleet.line()) as { faults: Record<string, string> }
    await exited(fleet.proc)
    emu.proc.stdin?.end()
    await exited(emu.proc)
    const byFault: Record<string, Record<string, number>> = {}
    for (const [name, fault] of Object.entries(f.faults)) {
      const status = e.jobs[name] ?? 'no job'
      const row = byFault[fault] ?? {}
      row[status] = (row[status] ?? 0) + 1
      byFault[fault] = row
    }
    const rows = Object.entries(byFault)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([fault, statuses]) => {
        const parts = Object.entries(statuses).map(([s, k]) => `${s} ${k}`)
        return `    injected fault ${fault === 'none' ? 'none (healthy)' : fault}: ${parts.join(', ')}`
      })
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`
    const runningMs = e.pauseMs + e.resumeToDoneMs
    const ended = e.final.succeeded + e.final.failed
    const rolloutRate = (ended * 1000) / runningMs
    const handRates = e.handMs.map((ms) => (n * 1000) / ms)
    const handRate = ((handRates[0] ?? 0) + (handRates[1] ?? 0)) / 2
    return [
      `staged rollout of a ${IMAGE_BYTES / 1024 / 1024} MiB image to ${n} simulated devices, ${FAIL_SHARE * 100}% failing their download at 50% (maxConcurrent ${MAX_CONCURRENT}, pauseOnFailure ${PAUSE_ON_FAILURE} = ${e.threshold} failures)`,
      `  paused at its threshold after ${s(e.pauseMs)}: ${e.atPause.failed} failed, ${e.atPause.succeeded} succeeded, ${e.atPause.active} under way, ${e.atPause.queued} queued (${e.pausedReason})`,
      `  upgrades under way ended ${s(e.drainMs - e.pauseMs)} later (${e.atResume.failed} failed, ${e.atResume.succeeded} succeeded, ${e.atResume.queued} queued); ${e.resumed ? `resumed, completed ${s(e.resumeToDoneMs)} after the resume` : 'nothing was left to resume: it completed'}`,
      `  final: ${e.final.succeeded} succeeded, ${e.final.failed} failed, ${e.final.canceled} canceled of ${e.final.total}; by injected fault:`,
      ...rows,
      `  upgrades/s while running (start to pause, resume to completion): ${rolloutRate.toFixed(1)}; baseline, the same devices pushed by hand ${MAX_CONCURRENT} at a time (before and after): ${handRates.map((r) => r.toFixed(1)).join(', ')}, mean ${handRate.toFixed(1)}  ratio ${(rolloutRate / handRate).toFixed(2)}`,
      `  firmware GETs of the rollout's image: ${e.requests}`,
      `  peak upgrades under way ${e.peakActive} (maxConcurrent ${MAX_CONCURRENT})`,
    ]
  } finally {
    emu.proc.kill('SIGTERM')
    fleet?.proc.kill('SIGTERM')
  }
}
