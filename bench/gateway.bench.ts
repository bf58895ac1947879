/**
 * Gateway bench: 1,000 sub-devices logged in through one gateway (batched) each posting one
 * property, against the baseline of 1,000 direct device connections (`linkkit.open`) doing the same.
 * Each run is a fresh child process, so its heap and RSS growth belong to that run alone; the
 * emulator runs in a child process of its own. Prints time and memory as ratios gateway / direct.
 * Heap growth is what the devices retain; RSS growth also holds the heap space V8 reserved while
 * the run allocated, which both runs grow alike.
 */
import { execFile } from 'node:child_process'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { Device } from '@linkkit/sdk'
import { startEmulatorProcess } from './broker-process.js'
import { median } from './stats.js'

const COUNT = 1000
const ROUNDS = 3
const CHILD_FLAG = '--gateway-bench-child'
const gatewayId = { productKey: 'a1BenchGw001', deviceName: 'bench-gateway', deviceSecret: 'b'.repeat(32) }
const devices = Array.from({ length: COUNT }, (_, i) => ({
  productKey: 'a1BenchSub01',
  deviceName: `sub-${String(i).padStart(4, '0')}`,
  deviceSecret: `secret-${i}`.padEnd(32, '0'),
}))

type Scenario = 'direct' | 'gateway'

interface RunResult {
  ms: number
  heapBytes: number
  rssBytes: number
}

function runChild(scenario: Scenario, url: string): Promise<RunResult> {
  const args = ['--import', 'tsx', '--conditions=development', new URL(import.meta.url).pathname]
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...args, CHILD_FLAG, scenario, url],
      { timeout: 300_000 },
      (error, stdout) => {
        if (error) reject(error)
        else resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as RunResult)
      },
    )
  })
}

/** Time and memory of both scenarios, alternating which goes first; medians of `ROUNDS`. */
export async function gatewayBench(): Promise<string[]> {
  await using emu = await startEmulatorProcess({ devices: [gatewayId, ...devices] })
  const runs: Record<Scenario, RunResult[]> = { direct: [], gateway: [] }
  for (let i = 0; i < ROUNDS; i++) {
    const order: Scenario[] = i % 2 === 0 ? ['direct', 'gateway'] : ['gateway', 'direct']
    for (const scenario of order) runs[scenario].push(await runChild(scenario, emu.url))
  }
  const pick = (s: Scenario, k: keyof RunResult) => median(runs[s].map((r) => r[k]))
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1).padStart(7)} MiB`
  const time = { baselineMs: pick('direct', 'ms'), candidateMs: pick('gateway', 'ms') }
  const heap = { direct: pick('direct', 'heapBytes'), gateway: pick('gateway', 'heapBytes') }
  const rss = { direct: pick('direct', 'rssBytes'), gateway: pick('gateway', 'rssBytes') }
  return [
    `${`${COUNT} sub-devices via 1 gateway vs ${COUNT} conns`.padEnd(44)} baseline ${time.baselineMs.toFixed(1).padStart(8)} ms   linkkit ${time.candidateMs.toFixed(1).padStart(8)} ms   ratio ${(time.candidateMs / time.baselineMs).toFixed(3)}  (target ≤ 1.00)`,
    `${'  memory: heap / RSS growth'.padEnd(44)} baseline ${mib(heap.direct)} / ${mib(rss.direct)}   linkkit ${mib(heap.gateway)} / ${mib(rss.gateway)}   ratio ${(heap.gateway / heap.direct).toFixed(3)} / ${(rss.gateway / rss.direct).toFixed(3)}  (target heap ≤ 0.75)`,
  ]
}

function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

/** Brings `list` online (directly or as sub-devices of one gateway), posts one property each; returns the closer. */
async function bringUp(scenario: Scenario, list: typeof devices, url: string): Promise<() => Promise<void>> {
  const { linkkit } = await import('@linkkit/sdk')
  const common = { brokerUrl: url, requestTimeoutMs: 60_000, connectTimeoutMs: 60_000 }
  if (scenario === 'direct') {
    const all: Device[] = list.map((d) => linkkit.open({ ...d, ...common }))
    await Promise.all(all.map((d) => d.connect()))
    await Promise.all(all.map((d) => d.postProperties({ Brightness: 1 })))
    return async () => void (await Promise.all(all.map((d) => d.close())))
  }
  const gateway = linkkit.open({ ...gatewayId, ...common })
  void gateway.subdevices
  await gateway.connect()
  const subs = list.map((d) => gateway.subdevices.open(d))
  await gateway.subdevices.connectAll()
  await Promise.all(subs.map((s) => s.postProperties({ Brightness: 1 })))
  return () => gateway.close()
}

/**
 * One scenario in this (child) process, after a warm-up round of 100 so that compiled code and
 * the heap's reserved space are in place: prints `{ ms, heapBytes, rssBytes }` of the full run.
 */
async function child(scenario: Scenario, url: string): Promise<void> {
  const gc = collectGarbage()
  await (await bringUp(scenario, devices.slice(0, 100), url))()
  gc()
  const before = process.memoryUsage()
  const t0 = performance.now()
  const close = await bringUp(scenario, devices, url)
  const ms = performance.now() - t0
  gc()
  const after = process.memoryUsage()
  await close()
  console.log(
    JSON.stringify({ ms, heapBytes: after.heapUsed - before.heapUsed, rssBytes: after.rss - before.rss }),
  )
}

if (process.argv[2] === CHILD_FLAG) {
  await child(process.argv[3] as Scenario, process.argv[4] ?? '')
  process.exit(0)
}
