// One side of the fleet bench, in a process of its own so its RSS is its own: `raw` (and
// `raw-tuned`, below) connects N
// MQTT.js clients with the MQTT.js options a fleet device's client gets (core's deviceMqttOptions:
// the same signed CONNECT, no MQTT.js reconnect or resubscribe) and subscribes the 4 filters a fleet
// device subscribes (fleetDeviceFilters, QoS 1, one SUBSCRIBE), then stays idle; `fleet` runs
// simulateFleet with N devices. Both read memory the same way: once a full GC (--expose-gc) has
// settled (below), minus what the process held before the first connect. Prints one JSON line of
// figures. LINKKIT_FLEET_HEAPSNAPSHOT=<dir> also writes a heap snapshot of each side there.
import { PerformanceObserver } from 'node:perf_hooks'
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8'
import { deviceMqttOptions } from '@linkkit/core'
import { simulateFleet } from '@linkkit/fleet'
import mqtt, { type MqttClient } from 'mqtt'
import { brokerEndpoint, fleetClientOptions } from '../packages/fleet/src/client-options.js'
import { fleetDeviceFilters } from '../packages/fleet/src/device-links.js'
import { quietLog } from '../packages/fleet/src/mqtt-log.js'

const [mode = 'fleet', url = '', count = '1000', tsl = '', intervalMs = '10000'] = process.argv.slice(2)
const n = Number(count)
const pk = 'a1FleetBench'
const triples = Array.from({ length: n }, (_, i) => ({
  productKey: pk,
  deviceName: `bench-${i}`,
  deviceSecret: `bench-secret-${i}`.padEnd(32, 'x'),
}))
// A full GC, then another each second until RSS holds still (within 1 MiB, at most 8 rounds): V8
// hands freed pages back on background threads after a GC, and a read one second after the first
// counted 2–4 KiB a device of pages about to go, on either side, in some runs and not in others.
const settle = async () => {
  let last = Number.POSITIVE_INFINITY
  for (let round = 0; round < 8; round++) {
    global.gc?.()
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const rss = process.memoryUsage().rss
    if (Math.abs(last - rss) < 1 << 20) break
    last = rss
  }
  global.gc?.()
  touchYoung()
}
// Cycles the young generation (64 MiB of objects that die at once: at least two scavenges, so both
// semi-spaces are touched) right before RSS is read, at the baseline and at the figure alike: its
// 32 MiB are then resident at both reads and cancel out. Left alone, how much of them is resident
// at each read depends on what the process allocated since its last GC, up to 3.2 KiB a device at
// N = 10000, on either side.
function touchYoung(): void {
  let sink = 0
  for (let i = 0; i < 1 << 16; i++) sink += new Array(128).fill(i).length
  if (sink === 0) console.log('unreachable')
}
const spaces = () =>
  Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, [s.space_used_size, s.space_size]]))
await settle()
const before = process.memoryUsage()
const spacesBefore = spaces()
const perDevice = () => {
  const now = process.memoryUsage()
  const after = spaces()
  // Per device, by heap space: [used, committed] (for telling live bytes from pages left committed).
  const bySpace = Object.fromEntries(
    Object.entries(after).map(([name, [used = 0, size = 0]]) => {
      const [used0 = 0, size0 = 0] = spacesBefore[name] ?? []
      return [name, [Math.round((used - used0) / n), Math.round((size - size0) / n)]]
    }),
  )
  return {
    rssPerDevice: (now.rss - before.rss) / n,
    heapPerDevice: (now.heapUsed - before.heapUsed) / n,
    heapTotalPerDevice: (now.heapTotal - before.heapTotal) / n,
    externalPerDevice: (now.external - before.external) / n,
    newSpaceBytes: after.new_space?.[1],
    bySpace,
  }
}
const snapshot = () => {
  const dir = process.env.LINKKIT_FLEET_HEAPSNAPSHOT
  if (dir) writeHeapSnapshot(`${dir}/${mode}-${n}.heapsnapshot`)
}
// LINKKIT_FLEET_PEAK=1: the most old space committed at any 100 ms sample while connecting.
let peakOld = 0
const gcs: Record<string, number> = {}
const observer = process.env.LINKKIT_FLEET_PEAK
  ? new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = String((e as unknown as { detail?: { kind?: number } }).detail?.kind)
        gcs[kind] = (gcs[kind] ?? 0) + 1
      }
    })
  : undefined
observer?.observe({ entryTypes: ['gc'] })
const sampler = process.env.LINKKIT_FLEET_PEAK
  ? setInterval(() => {
      peakOld = Math.max(peakOld, spaces().old_space?.[1] ?? 0)
    }, 100)
  : undefined
const peak = () => {
  clearInterval(sampler)
  observer?.disconnect()
  return sampler === undefined
    ? {}
    : { peakOldSpacePerDevice: (peakOld - (spacesBefore.old_space?.[1] ?? 0)) / n, gcs }
}
const t0 = performance.now()
if (mode === 'raw' || mode === 'raw-tuned') {
  // raw-tuned: the same clients given the fleet's own two MQTT.js settings (the options object
  // MQTT.js keeps as it is, and the quiet logger), to show what is left of the fleet's design.
  const endpoint = brokerEndpoint(url)
  const options = (d: (typeof triples)[number]) => {
    const device = deviceMqttOptions({ ...d, brokerUrl: url })
    return mode === 'raw-tuned' && endpoint ? fleetClientOptions(device, endpoint, quietLog) : device
  }
  const clients: MqttClient[] = []
  let next = 0
  const worker = async () => {
    while (next < n) {
      const d = triples[next++]!
      const c = mode === 'raw-tuned' ? mqtt.connect(options(d)) : mqtt.connect(url, options(d))
      await new Promise((resolve, reject) => {
        c.once('connect', resolve)
        c.once('error', reject)
        c.connect()
      })
      await c.subscribeAsync(fleetDeviceFilters(d), { qos: 1 })
      clients.push(c)
    }
  }
  await Promise.all(Array.from({ length: 100 }, worker))
  const connectMs = performance.now() - t0
  const peaked = peak()
  await settle()
  console.log(JSON.stringify({ mode, n, connectMs, ...perDevice(), ...peaked }))
  snapshot()
} else {
  const fleet = await simulateFleet({
    url,
    devices: triples,
    thingModel: tsl,
    postIntervalMs: Number(intervalMs),
    connectConcurrency: 100,
    requestTimeoutMs: 30_000,
  })
  await fleet.whenConnected()
  const connectMs = performance.now() - t0
  const peaked = peak()
  await settle()
  const memory = { ...perDevice(), ...peaked }
  snapshot()
  const a = fleet.metrics()
  await new Promise((resolve) => setTimeout(resolve, 10_000))
  const b = fleet.metrics()
  const postsPerSecond = (b.posts.answered - a.posts.answered) / ((b.elapsedMs - a.elapsedMs) / 1000)
  console.log(
    JSON.stringify({
      mode,
      n,
      connectMs,
      ...memory,
      postsPerSecond,
      roundTripMs: b.roundTripMs,
      failed: b.posts.failed,
      connected: b.connected,
    }),
  )
  await fleet.close()
}
process.exit(0)
