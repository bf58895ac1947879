// One side of the fleet bench, in a process of its own so its RSS is its own: `raw` connects N
// MQTT.js clients (the same signed CONNECT and the same 16 filters a fleet device subscribes),
// `fleet` runs simulateFleet with N devices. Both read memory the same way: after a full GC
// (--expose-gc), minus what the process held before the first connect. Prints one JSON line of
// figures. LINKKIT_FLEET_HEAPSNAPSHOT=<dir> also writes a heap snapshot of each side there.
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8'
import { simulateFleet } from '@linkkit/fleet'
import mqtt, { type MqttClient } from 'mqtt'
import { deviceFilters, rawOptions } from './raw-options.js'

const [mode = 'fleet', url = '', count = '1000', tsl = '', intervalMs = '10000'] = process.argv.slice(2)
const n = Number(count)
const pk = 'a1FleetBench'
const triples = Array.from({ length: n }, (_, i) => ({
  productKey: pk,
  deviceName: `bench-${i}`,
  deviceSecret: `bench-secret-${i}`.padEnd(32, 'x'),
}))
const settle = async () => {
  global.gc?.()
  await new Promise((resolve) => setTimeout(resolve, 1000))
  global.gc?.()
}
await settle()
const before = process.memoryUsage()
const perDevice = () => {
  const now = process.memoryUsage()
  const newSpace = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size
  return {
    rssPerDevice: (now.rss - before.rss) / n,
    heapPerDevice: (now.heapUsed - before.heapUsed) / n,
    heapTotalPerDevice: (now.heapTotal - before.heapTotal) / n,
    newSpaceBytes: newSpace,
  }
}
const snapshot = () => {
  const dir = process.env.LINKKIT_FLEET_HEAPSNAPSHOT
  if (dir) writeHeapSnapshot(`${dir}/${mode}-${n}.heapsnapshot`)
}
const t0 = performance.now()
if (mode === 'raw') {
  // Each client posts a property post every interval, spread as the fleet spreads its devices'
  // (client i at i/N of the interval), from one timer: the baseline does the fleet's traffic too,
  // so neither side's memory holds the other's in-flight work or its garbage.
  const clients: Array<MqttClient | undefined> = new Array(n)
  const interval = Number(intervalMs)
  let replies = 0
  const onMessage = () => {
    replies++
  }
  let cursor = 0
  let id = 0
  const poster = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) * n) / interval)
    if (due - cursor > n) cursor = due - n
    for (; cursor < due; cursor++) {
      const i = cursor % n
      const c = clients[i]
      if (c === undefined) continue
      const params = { LightSwitch: cursor % 2, Brightness: cursor % 100 }
      const body = { id: String(++id), version: '1.0', params, method: 'thing.event.property.post' }
      c.publish(`/sys/${pk}/bench-${i}/thing/event/property/post`, JSON.stringify(body), { qos: 0 })
    }
  }, 50)
  let next = 0
  const worker = async () => {
    while (next < n) {
      const i = next++
      const d = triples[i]!
      const c = await mqtt.connectAsync(url, rawOptions(d.productKey, d.deviceName, d.deviceSecret))
      await c.subscribeAsync(deviceFilters(pk, d.deviceName))
      c.on('message', onMessage)
      clients[i] = c
    }
  }
  await Promise.all(Array.from({ length: 100 }, worker))
  const connectMs = performance.now() - t0
  await settle()
  const memory = perDevice()
  snapshot()
  const repliesBefore = replies
  await new Promise((resolve) => setTimeout(resolve, 10_000))
  const postsPerSecond = (replies - repliesBefore) / 10
  clearInterval(poster)
  console.log(JSON.stringify({ mode, n, connectMs, ...memory, postsPerSecond }))
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
  await settle()
  const memory = perDevice()
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
