import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { startEmulatorProcess } from './broker-process.js'
import { median } from './stats.js'

const run = promisify(execFile)
const LAMP_TSL = fileURLToPath(new URL('../examples/lamp.tsl.json', import.meta.url))

interface Side {
  connectMs: number
  rssPerDevice: number
  heapPerDevice: number
  heapTotalPerDevice: number
  postsPerSecond?: number
  roundTripMs?: { p50: number; p99: number }
  failed?: number
}

async function side(
  mode: 'raw' | 'raw-tuned' | 'fleet',
  url: string,
  n: number,
  intervalMs: number,
): Promise<Side> {
  const child = new URL('./fleet-child.ts', import.meta.url).pathname
  const { stdout } = await run(
    process.execPath,
    [
      '--expose-gc',
      // The same young generation on both sides from the start, at V8's default maximum: left to
      // itself V8 grows it (to 32 MiB) with the allocation rate after the baseline is read, on one
      // side or both, a per-process amount that is not per-device memory (at N = 2000 it alone
      // moved the raw side's RSS per device from 34 to 47 KiB between two runs).
      '--min-semi-space-size=16',
      '--max-semi-space-size=16',
      // The packages as users run them (dist, built by `npm run bench`), not their sources through
      // tsx: its keepNames gives each closure a `name` property, some 300 bytes more per closure.
      '--import',
      'tsx',
      child,
      mode,
      url,
      String(n),
      LAMP_TSL,
      String(intervalMs),
    ],
    { maxBuffer: 1 << 20, timeout: 20 * 60_000 },
  )
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Side
}

/**
 * `npm run bench -- fleet`: N simulated devices (LINKKIT_FLEET_N, default 10000) in one process
 * against the emulator in a child process, and N raw MQTT.js clients in another process, each with
 * a fresh emulator, for LINKKIT_FLEET_ROUNDS rounds (default 3; raw then fleet in odd rounds, fleet
 * then raw in even ones): time to all connected, RSS and heap per device (fleet / raw), posts a
 * second sustained, each round's figures and the medians. Fair by construction: each raw client
 * gets the MQTT.js options a fleet device's client gets (core's `deviceMqttOptions`: the same signed
 * CONNECT, keepalive, no MQTT.js reconnect or resubscribe) and subscribes exactly the fleet device's
 * filters (`fleetDeviceFilters`, 4 in one SUBSCRIBE at QoS 1); the raw clients then stay idle while
 * the fleet posts. LINKKIT_FLEET_VERBOSE=1 also prints both sides' figures with their heap spaces
 * to stderr; LINKKIT_FLEET_RAW=tuned gives the raw clients the fleet's own MQTT.js settings.
 */
export async function fleetBench(): Promise<string[]> {
  const n = Number(process.env.LINKKIT_FLEET_N ?? 10_000)
  const rounds = Number(process.env.LINKKIT_FLEET_ROUNDS ?? 3)
  const intervalMs = Number(process.env.LINKKIT_FLEET_INTERVAL_MS ?? 10_000)
  const devices = Array.from({ length: n }, (_, i) => ({
    productKey: 'a1FleetBench',
    deviceName: `bench-${i}`,
    deviceSecret: `bench-secret-${i}`.padEnd(32, 'x'),
  }))
  const products = [{ productKey: 'a1FleetBench', thingModel: LAMP_TSL }]
  // LINKKIT_FLEET_RAW=tuned: raw clients given the fleet's own MQTT.js settings (bench/fleet-child.ts).
  const rawMode = process.env.LINKKIT_FLEET_RAW === 'tuned' ? 'raw-tuned' : 'raw'
  const measure = async (mode: 'raw' | 'fleet') => {
    await using emu = await startEmulatorProcess({ devices, products })
    return await side(mode === 'raw' ? rawMode : mode, emu.url, n, intervalMs)
  }
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`
  const lines = [
    `fleet of ${n} devices against ${rawMode === 'raw' ? 'raw MQTT.js clients' : "raw MQTT.js clients given the fleet's MQTT.js settings (LINKKIT_FLEET_RAW=tuned)"}, ${rounds} rounds (each side in its own process with a fresh emulator; both 100 connects in flight; the fleet posts each device every ${intervalMs} ms, offered ${((n * 1000) / intervalMs).toFixed(0)}/s)`,
  ]
  const ratios = { rss: [] as number[], heap: [] as number[] }
  const connect = { fleet: [] as number[], raw: [] as number[] }
  for (let round = 1; round <= rounds; round++) {
    const order: Array<'raw' | 'fleet'> = round % 2 === 1 ? ['raw', 'fleet'] : ['fleet', 'raw']
    const got: Partial<Record<'raw' | 'fleet', Side>> = {}
    for (const mode of order) got[mode] = await measure(mode)
    const raw = got.raw as Side
    const fleet = got.fleet as Side
    if (process.env.LINKKIT_FLEET_VERBOSE) console.error(JSON.stringify({ round, raw, fleet }))
    ratios.rss.push(fleet.rssPerDevice / raw.rssPerDevice)
    ratios.heap.push(fleet.heapPerDevice / raw.heapPerDevice)
    connect.fleet.push(fleet.connectMs)
    connect.raw.push(raw.connectMs)
    lines.push(
      `round ${round}: all connected in ${s(fleet.connectMs)} (raw ${s(raw.connectMs)}); RSS per device ${kb(fleet.rssPerDevice)} / raw ${kb(raw.rssPerDevice)} = ${(fleet.rssPerDevice / raw.rssPerDevice).toFixed(2)}; JS heap ${kb(fleet.heapPerDevice)} / ${kb(raw.heapPerDevice)} = ${(fleet.heapPerDevice / raw.heapPerDevice).toFixed(2)} (committed ${kb(fleet.heapTotalPerDevice)} / ${kb(raw.heapTotalPerDevice)}); posts ${fleet.postsPerSecond?.toFixed(0)}/s, round trip p50 ${fleet.roundTripMs?.p50} ms p99 ${fleet.roundTripMs?.p99} ms, failed ${fleet.failed}`,
    )
  }
  lines.push(
    `fleet RSS per device / raw MQTT.js client: median ${median(ratios.rss).toFixed(2)}, highest ${Math.max(...ratios.rss).toFixed(2)}  (target ≤ 1.20)`,
    `fleet JS heap per device / raw: median ${median(ratios.heap).toFixed(2)}; time to all connected, median ${s(median(connect.fleet))} (raw ${s(median(connect.raw))})`,
  )
  return lines
}
