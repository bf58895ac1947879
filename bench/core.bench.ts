import { Connection } from '@linkkit/core'
import mqtt from 'mqtt'
import { startEmulatorProcess } from './broker-process.js'
import { rawOptions } from './raw-options.js'
import { compare, line } from './stats.js'

const productKey = 'a1BenchCore1'
const deviceName = 'bench-device'
const deviceSecret = '0123456789abcdef0123456789abcdef'
const filters = [
  `/sys/${productKey}/${deviceName}/thing/service/+`,
  `/sys/${productKey}/${deviceName}/thing/event/+/post_reply`,
  `/ota/device/upgrade/${productKey}/${deviceName}`,
  `/sys/${productKey}/${deviceName}/rrpc/request/+`,
]
const topic = `/sys/${productKey}/${deviceName}/thing/event/property/post`

/** Core benchmarks: connect + subscribe, and QoS1 publish throughput, each against raw MQTT.js on the same broker. */
export async function coreBench(brokerUrl: string | undefined): Promise<string[]> {
  await using emu = await startEmulatorProcess({ devices: [{ productKey, deviceName, deviceSecret }] })
  const url = brokerUrl ?? emu.url
  const where = brokerUrl ? 'Mosquitto' : 'emulator'
  const out: string[] = []

  const connectRounds = 201
  const connect = await compare(
    connectRounds,
    async () => {
      const c = await mqtt.connectAsync(url, rawOptions(productKey, deviceName, deviceSecret))
      const granted = await c.subscribeAsync(Object.fromEntries(filters.map((f) => [f, { qos: 1 as const }])))
      if (granted.some((g) => (g.qos as number) === 128)) throw new Error('refused')
      await c.endAsync()
    },
    async () => {
      const c = new Connection({ productKey, deviceName, deviceSecret, brokerUrl: url })
      for (const f of filters) await c.subscribe(f)
      await c.connect()
      await c.close()
    },
  )
  out.push(line(`connect + subscribe 4 filters (${where})`, connect, '≤ 1.10'))

  const messages = 5000
  const payload = JSON.stringify({
    id: '1',
    version: '1.0',
    params: { LightSwitch: 1, Brightness: 42 },
    method: 'thing.event.property.post',
  })
  const raw = await mqtt.connectAsync(url, rawOptions(productKey, deviceName, deviceSecret))
  const framework = new Connection({ productKey, deviceName: `${deviceName}`, deviceSecret, brokerUrl: url })
  // The emulator kicks the older connection of one identity, so the two clients take turns connecting.
  await raw.endAsync()
  const publish = await compare(
    7,
    async () => {
      const c = await mqtt.connectAsync(url, rawOptions(productKey, deviceName, deviceSecret))
      await Promise.all(Array.from({ length: messages }, () => c.publishAsync(topic, payload, { qos: 1 })))
      await c.endAsync()
    },
    async () => {
      const c = new Connection({ productKey, deviceName, deviceSecret, brokerUrl: url })
      await c.connect()
      await Promise.all(Array.from({ length: messages }, () => c.publish(topic, payload, { qos: 1 })))
      await c.close()
    },
  )
  await framework.close()
  out.push(line(`${messages} QoS1 publishes incl. connect (${where})`, publish, '≤ 1.10'))
  return out
}
