// One side of the fleet bench, in a process of its own so its RSS is its own: `raw` connects N
// MQTT.js clients (the same signed CONNECT and the fleet device's core filters), `fleet` runs
// simulateFleet with N devices. Prints one JSON line of figures.
import { simulateFleet } from '@linkkit/fleet'
import mqtt, { type MqttClient } from 'mqtt'
import { rawOptions } from './raw-options.js'

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
const rssBefore = process.memoryUsage().rss
const t0 = performance.now()
if (mode === 'raw') {
  const clients: MqttClient[] = []
  let next = 0
  const worker = async () => {
    while (next < n) {
      const d = triples[next++]!
      const c = await mqtt.connectAsync(url, rawOptions(d.productKey, d.deviceName, d.deviceSecret))
      await c.subscribeAsync({
        [`/sys/${pk}/${d.deviceName}/thing/service/+`]: { qos: 1 },
        [`/sys/${pk}/${d.deviceName}/thing/event/+/post_reply`]: { qos: 1 },
        [`/ota/device/upgrade/${pk}/${d.deviceName}`]: { qos: 1 },
        [`/sys/${pk}/${d.deviceName}/rrpc/request/+`]: { qos: 1 },
      })
      clients.push(c)
    }
  }
  await Promise.all(Array.from({ length: 100 }, worker))
  const connectMs = performance.now() - t0
  await settle()
  console.log(
    JSON.stringify({ mode, n, connectMs, rssPerDevice: (process.memoryUsage().rss - rssBefore) / n }),
  )
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
  const rssPerDevice = (process.memoryUsage().rss - rssBefore) / n
  const a = fleet.metrics()
  await new Promise((resolve) => setTimeout(resolve, 10_000))
  const b = fleet.metrics()
  const postsPerSecond = (b.posts.answered - a.posts.answered) / ((b.elapsedMs - a.elapsedMs) / 1000)
  console.log(
    JSON.stringify({
      mode,
      n,
      connectMs,
      rssPerDevice,
      postsPerSecond,
      roundTripMs: b.roundTripMs,
      failed: b.posts.failed,
      connected: b.connected,
    }),
  )
  await fleet.close()
}
process.exit(0)
