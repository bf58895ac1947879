import { fileURLToPath } from 'node:url'
import type { MqttClient } from 'mqtt'
import { Emulator, type EmulatorOptions } from '../src/index.js'
import { connect, credentials, DEVICE, DN, PK } from './helpers.js'

export const LAMP_TSL = fileURLToPath(new URL('../../../examples/lamp.tsl.json', import.meta.url))
export const SYS = `/sys/${PK}/${DN}`

/** An emulator knowing DEVICE, whose product carries the lamp TSL unless `tsl` is false. */
export function lampEmulator(options: EmulatorOptions & { tsl?: boolean } = {}): Promise<Emulator> {
  const { tsl = true, ...rest } = options
  return Emulator.start({
    devices: [DEVICE],
    products: tsl ? [{ productKey: PK, thingModel: LAMP_TSL }] : [],
    // `request` below posts at QoS 1: with Nagle's algorithm on each reply would wait ~40 ms.
    noDelay: true,
    ...rest,
  })
}

/** The device as a raw MQTT.js client, `_ss=1` so system downlinks arrive without SUBSCRIBE. */
export function device(emu: Emulator, params: Record<string, string> = {}): Promise<MqttClient> {
  return connect(emu.mqttUrl, credentials({ params: { _ss: '1', ...params } }))
}

/** Resolves with the next payload on `topic`, or rejects after `timeoutMs`. */
export function nextOn(c: MqttClient, topic: string, timeoutMs = 2000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      c.off('message', onMessage)
      reject(new Error(`nothing on ${topic} within ${timeoutMs} ms`))
    }, timeoutMs)
    const onMessage = (t: string, payload: Buffer) => {
      if (t !== topic) return
      clearTimeout(timer)
      c.off('message', onMessage)
      resolve(payload)
    }
    c.on('message', onMessage)
  })
}

/** Resolves with the first message whose topic matches `pattern`. */
export function nextMatching(c: MqttClient, pattern: RegExp, timeoutMs = 2000): Promise<[string, Buffer]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      c.off('message', onMessage)
      reject(new Error(`nothing matching ${pattern} within ${timeoutMs} ms`))
    }, timeoutMs)
    const onMessage = (t: string, payload: Buffer) => {
      if (!pattern.test(t)) return
      clearTimeout(timer)
      c.off('message', onMessage)
      resolve([t, payload])
    }
    c.on('message', onMessage)
  })
}

/** Publishes `body` (JSON-encoded unless already a string or bytes) on `topic` and returns the parsed `_reply`. */
export async function request(c: MqttClient, topic: string, body: unknown): Promise<Record<string, unknown>> {
  const reply = nextOn(c, `${topic}_reply`)
  const payload = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body)
  await c.publishAsync(topic, Buffer.from(payload), { qos: 1 })
  return JSON.parse((await reply).toString('utf8')) as Record<string, unknown>
}

/** Publishes and resolves after a round trip through the broker, proving no reply came meanwhile. */
export async function publishExpectingSilence(
  c: MqttClient,
  topic: string,
  payload: string,
  quietMs = 150,
): Promise<string[]> {
  const seen: string[] = []
  const onMessage = (t: string) => seen.push(t)
  c.on('message', onMessage)
  await c.publishAsync(topic, payload, { qos: 1 })
  await new Promise((resolve) => setTimeout(resolve, quietMs))
  c.off('message', onMessage)
  return seen
}
