// Property post round trips, one post at a time, in a process of their own that runs linkkit's
// BUILT packages (dist/, no TypeScript loader) as users run them: raw MQTT.js request/reply
// (publish, wait for the `_reply` carrying the id) and a `linkkit.open()` device against the same
// broker. Each round times `count` posts of each side in blocks of 25 posts, the blocks
// alternating (B L L B B L …), so drifting load on the machine hits both sides alike while each
// side still posts back to back as an application does.
// Usage: node roundtrip-child.mjs <brokerUrl> <qos 0|1> <posts per round> <rounds>
// Prints {"baselineMs","candidateMs"}: the median over the rounds of each side's total time.
import { buildCredentials, SDK_VERSION } from '@linkkit/core'
import { linkkit } from '@linkkit/sdk'
import mqtt from 'mqtt'

const [url, qosText, countText, roundsText] = process.argv.slice(2)
const qos = Number(qosText) === 1 ? 1 : 0
const count = Number(countText)
const rounds = Number(roundsText)
const productKey = 'a1BenchTrip1'
const rawId = { productKey, deviceName: 'bench-raw', deviceSecret: '0123456789abcdef0123456789abcdef' }
const linkkitId = {
  productKey,
  deviceName: 'bench-linkkit',
  deviceSecret: 'fedcba9876543210fedcba9876543210',
}
const props = { LightSwitch: 1, Brightness: 42 }

/** The same signed CONNECT a linkkit device sends; then request/reply by hand. */
async function rawClient() {
  const { deviceName, deviceSecret } = rawId
  const credentials = buildCredentials({
    productKey,
    deviceName,
    deviceSecret,
    signMethod: 'hmacsha256',
    clientIdBase: `${productKey}.${deviceName}`,
    secure: false,
    timestamp: Date.now(),
    sdkVersion: SDK_VERSION,
  })
  const client = await mqtt.connectAsync(url, {
    ...credentials,
    protocolVersion: 4,
    keepalive: 60,
    clean: true,
    reconnectPeriod: 0,
  })
  const topic = `/sys/${productKey}/${deviceName}/thing/event/property/post`
  await client.subscribeAsync(`${topic}_reply`, { qos })
  const waiting = new Map()
  client.on('message', (_topic, payload) => {
    const { id } = JSON.parse(payload.toString())
    waiting.get(id)?.()
    waiting.delete(id)
  })
  let next = 0
  const post = () =>
    new Promise((resolve, reject) => {
      const id = String(++next)
      waiting.set(id, resolve)
      const body = { id, version: '1.0', params: props, method: 'thing.event.property.post' }
      client.publish(topic, JSON.stringify(body), { qos }, (error) => error && reject(error))
    })
  return { post, close: () => client.endAsync() }
}

const BLOCK = 25

/** One round: `count` posts of each side in alternating blocks of BLOCK posts. */
async function round(baseline, candidate) {
  let b = 0
  let c = 0
  const block = async (post, n) => {
    const t0 = performance.now()
    for (let i = 0; i < n; i++) await post()
    return performance.now() - t0
  }
  for (let done = 0, k = 0; done < count; done += BLOCK, k++) {
    const n = Math.min(BLOCK, count - done)
    if (k % 2 === 0) {
      b += await block(baseline, n)
      c += await block(candidate, n)
    } else {
      c += await block(candidate, n)
      b += await block(baseline, n)
    }
  }
  return { b, c }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

const raw = await rawClient()
const device = await linkkit.open({ ...linkkitId, brokerUrl: url }).connect()
// QoS 0 is linkkit's default: nothing to pass. QoS 1 is the per-call opt-in.
const linkkitPost =
  qos === 0 ? () => device.postProperties(props) : () => device.postProperties(props, { qos })
const b = []
const c = []
// Warm-up: both sides run until the JIT has optimized their code (steady state, as a device in service).
for (let i = 0; i < 4; i++) await round(raw.post, linkkitPost)
for (let i = 0; i < rounds; i++) {
  const r = await round(raw.post, linkkitPost)
  b.push(r.b)
  c.push(r.c)
}
await device.close()
await raw.close()
console.log(JSON.stringify({ baselineMs: median(b), candidateMs: median(c) }))
