// The fleet side of the rollout bench, in a process of its own: N simulated devices with a share
// of injected download failures. Prints `connected` once all are, then on stdin's end one JSON
// line: each device's fault, and the fleet's OTA metrics.
import { text } from 'node:stream/consumers'
import { simulateFleet } from '@linkkit/fleet'

const [url = '', count = '1000', tsl = '', failShare = '0.05', seed = '1'] = process.argv.slice(2)
const n = Number(count)
const fleet = await simulateFleet({
  url,
  devices: Array.from({ length: n }, (_, i) => ({
    productKey: 'a1RolloutBch',
    deviceName: `bench-${i}`,
    deviceSecret: `bench-secret-${i}`.padEnd(32, 'x'),
  })),
  thingModel: tsl,
  postIntervalMs: 0,
  connectConcurrency: 100,
  requestTimeoutMs: 30_000,
  ota: { allowHttp: true },
  faults: [{ share: Number(failShare), kind: 'fail', atPercent: 50 }],
  seed: Number(seed),
})
await fleet.whenConnected()
console.log('connected')
await text(process.stdin)
const faults: Record<string, string> = {}
for (const d of fleet.devices()) faults[d.deviceName] = d.fault ?? 'none'
console.log(JSON.stringify({ faults, ota: fleet.metrics().ota }))
await fleet.close()
