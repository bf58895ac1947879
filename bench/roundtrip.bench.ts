/**
 * Property post round trips as a device sees them: one post at a time (`await postProperties`),
 * through Mosquitto in its default configuration (Nagle's algorithm on) and through the emulator
 * with its default options, each against raw MQTT.js doing the same request/reply at the same QoS
 * (publish the request, wait for the `_reply` carrying its id). Through Mosquitto the replies come
 * from a responder process (raw MQTT.js) that serves both sides alike.
 *
 * The headline: linkkit with default options against raw MQTT.js at QoS 0. At QoS 1 through a
 * broker with Nagle on, the PUBACK and the reply are two small segments and the reply waits for
 * the device's delayed ACK (~40 ms); Alink requests therefore go at QoS 0 by default, as the C SDK
 * sends them.
 */
import { linkkit } from 'linkkit'
import mqtt from 'mqtt'
import { startEmulatorProcess } from './broker-process.js'
import { findMosquitto, startMosquittoProcess, startResponder } from './mosquitto-process.js'
import { rawOptions } from './raw-options.js'
import { compare, line } from './stats.js'

const productKey = 'a1BenchTrip1'
const rawId = { productKey, deviceName: 'bench-raw', deviceSecret: '0123456789abcdef0123456789abcdef' }
const linkkitId = {
  productKey,
  deviceName: 'bench-linkkit',
  deviceSecret: 'fedcba9876543210fedcba9876543210',
}
const props = { LightSwitch: 1, Brightness: 42 }

type Qos = 0 | 1

/** Raw MQTT.js request/reply by hand: an id per request, JSON, a map of waiters on the reply topic. */
async function rawClient(url: string, qos: Qos) {
  const { productKey: pk, deviceName: dn, deviceSecret } = rawId
  const topic = `/sys/${pk}/${dn}/thing/event/property/post`
  const client = await mqtt.connectAsync(url, rawOptions(pk, dn, deviceSecret))
  await client.subscribeAsync(`${topic}_reply`, { qos })
  const waiting = new Map<string, () => void>()
  client.on('message', (_t, payload) => {
    const { id } = JSON.parse(payload.toString()) as { id: string }
    waiting.get(id)?.()
    waiting.delete(id)
  })
  let next = 0
  const post = () =>
    new Promise<void>((resolve, reject) => {
      const id = String(++next)
      waiting.set(id, resolve)
      const body = { id, version: '1.0', params: props, method: 'thing.event.property.post' }
      client.publish(topic, JSON.stringify(body), { qos }, (error) => error && reject(error))
    })
  return { post, close: () => client.endAsync() }
}

async function sequential(count: number, post: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < count; i++) await post()
}

async function measure(where: string, url: string): Promise<string[]> {
  const out: string[] = []
  const device = await linkkit.open({ ...linkkitId, brokerUrl: url }).connect()
  try {
    for (const [qos, count, rounds] of [
      [0, 200, 7],
      [1, 25, 5],
    ] as const) {
      const raw = await rawClient(url, qos)
      try {
        // QoS 0 is linkkit's default: nothing to pass. QoS 1 is the per-call opt-in.
        const options = qos === 0 ? undefined : { qos }
        const r = await compare(
          rounds,
          () => sequential(count, raw.post),
          () => sequential(count, () => device.postProperties(props, options)),
        )
        const who = qos === 0 ? 'linkkit defaults' : 'linkkit { qos: 1 }'
        out.push(line(`${count} sequential posts QoS ${qos}, ${where}`, r, '—'))
        const target = qos === 0 ? '≥ 0.90' : 'reported'
        out.push(
          `${`  → throughput ${who} / raw MQTT.js QoS ${qos}`.padEnd(44)} ${(1 / r.ratio).toFixed(3)}  (target ${target}; ${(r.baselineMs / count).toFixed(2)} vs ${(r.candidateMs / count).toFixed(2)} ms a post)`,
        )
      } finally {
        await raw.close()
      }
    }
  } finally {
    await device.close()
  }
  return out
}

/** Round trips through the emulator (default options) and through Mosquitto's default configuration. */
export async function roundtripBench(): Promise<string[]> {
  const out: string[] = []
  const bin = findMosquitto()
  if (bin === undefined) {
    out.push('Mosquitto round trips skipped: mosquitto not found (set MOSQUITTO_BIN)')
  } else {
    await using mosquitto = await startMosquittoProcess(bin)
    await using _responder = await startResponder(mosquitto.url)
    out.push(...(await measure('Mosquitto default', mosquitto.url)))
  }
  await using emu = await startEmulatorProcess({ devices: [rawId, linkkitId] })
  out.push(...(await measure('emulator default', emu.url)))
  return out
}
