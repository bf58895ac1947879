import { Connection } from '@linkkit/core'
import { parseThingModel, ThingClient } from '@linkkit/thing-model'
import mqtt from 'mqtt'
import lamp from '../examples/lamp.tsl.json' with { type: 'json' }
import { startEmulatorProcess } from './broker-process.js'
import { rawOptions } from './raw-options.js'
import { compare, line } from './stats.js'

const productKey = 'a1BenchThing'
const deviceName = 'bench-lamp'
const deviceSecret = '0123456789abcdef0123456789abcdef'
const topic = `/sys/${productKey}/${deviceName}/thing/event/property/post`
const props = { LightSwitch: 1, Brightness: 42 }

/** Sends `total` requests keeping `window` in flight; each resolves on its reply. */
async function windowed(total: number, window: number, send: () => Promise<unknown>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < total) {
      next++
      await send()
    }
  }
  await Promise.all(Array.from({ length: window }, worker))
}

/** Raw MQTT.js doing the same Alink request/reply by hand: ids, JSON, matching replies, at QoS 0 as linkkit. */
async function rawClient(url: string): Promise<{ post: () => Promise<void>; close: () => Promise<void> }> {
  const client = await mqtt.connectAsync(url, rawOptions(productKey, deviceName, deviceSecret))
  await client.subscribeAsync(`/sys/${productKey}/${deviceName}/thing/event/+/post_reply`, { qos: 1 })
  const waiting = new Map<string, () => void>()
  client.on('message', (_t, payload) => {
    const reply = JSON.parse(payload.toString()) as { id: string; code: number }
    waiting.get(reply.id)?.()
    waiting.delete(reply.id)
  })
  let id = 0
  return {
    post: () =>
      new Promise<void>((resolve, reject) => {
        const msgId = String(++id)
        waiting.set(msgId, resolve)
        const body = { id: msgId, version: '1.0', params: props, method: 'thing.event.property.post' }
        client.publish(topic, JSON.stringify(body), { qos: 0 }, (err) => err && reject(err))
      }),
    close: () => client.endAsync(),
  }
}

/** Property post round trips (post → reply) through ThingClient vs raw MQTT.js; and TSL validation cost per post. */
export async function thingBench(): Promise<string[]> {
  const tslPath = new URL('../examples/lamp.tsl.json', import.meta.url).pathname
  // noDelay: this bench weighs linkkit's own cost per post (8 in flight, TSL checks on both ends).
  // With Nagle's algorithm on, pipelined replies stall on delayed ACKs at random and the spread
  // swamps what is measured; what devices see on default brokers is the `roundtrip` bench.
  await using emu = await startEmulatorProcess({
    products: [{ productKey, thingModel: tslPath }],
    devices: [{ productKey, deviceName, deviceSecret }],
    noDelay: true,
  })
  const total = 2000
  const window = 8
  const model = parseThingModel(lamp)
  const out: string[] = []
  // The emulator kicks the older of two connections of one device, so each round connects its own client.
  const r = await compare(
    7,
    async () => {
      const raw = await rawClient(emu.url)
      await windowed(total, window, raw.post)
      await raw.close()
    },
    async () => {
      const connection = new Connection({ productKey, deviceName, deviceSecret, brokerUrl: emu.url })
      const thing = new ThingClient(connection, { thingModel: model })
      await thing.start()
      await connection.connect()
      await windowed(total, window, () => thing.postProperties(props))
      await thing.close()
      await connection.close()
    },
  )
  const throughput = 1 / r.ratio
  out.push(
    `${line(`${total} property post round trips, ${window} in flight`, r, '—')}\n${'  → throughput linkkit / raw MQTT.js'.padEnd(44)} ${throughput.toFixed(3)}  (target ≥ 0.85)`,
  )
  const n = 200_000
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) model.validateProperties(props)
  const ns = Number(process.hrtime.bigint() - t0) / n
  out.push(`${'TSL validation per post (2 properties)'.padEnd(44)} ${(ns / 1000).toFixed(2)} µs`)
  return out
}
