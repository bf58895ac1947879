import { findMosquitto, MosquittoProcess, mosquittoRequired } from '@linkkit/testing/mosquitto'
import { PlainBroker } from '@linkkit/testing/plain-broker'
import mqtt from 'mqtt'
import { describe, it } from 'vitest'
import { Connection } from '../src/connection.js'
import { restartSoak } from './helpers/soak.js'

const triple = {
  productKey: 'a1B2c3D4e5F',
  deviceName: 'soak001',
  deviceSecret: '0123456789abcdef0123456789abcdef',
}
const reconnect = { initialDelayMs: 10, maxDelayMs: 100 }
const postIndex = (payload: Buffer) => (JSON.parse(payload.toString()) as { params: { i: number } }).params.i

describe('1,000 QoS1 posts across 5 broker restarts', () => {
  it('on an in-process aedes broker', async () => {
    await using broker = await PlainBroker.start()
    await using device = new Connection({ ...triple, brokerUrl: broker.url, reconnect })
    await restartSoak(device, {
      stop: () => broker.stop(),
      start: () => broker.start(),
      downlink: (topic, payload) => broker.publish(topic, payload),
      received: () =>
        broker.published.filter((p) => p.topic.endsWith('/property/post')).map((p) => postIndex(p.payload)),
    })
  }, 60_000)

  const bin = findMosquitto()
  it.skipIf(!bin && !mosquittoRequired)(
    'on Mosquitto, restarted as a process',
    async () => {
      const mosq = await MosquittoProcess.startRequired(bin)
      const received: number[] = []
      const cloud = await mqtt.connectAsync(mosq.url, {
        clientId: 'soak-cloud',
        clean: false,
        reconnectPeriod: 50,
      })
      try {
        await cloud.subscribeAsync(
          `/sys/${triple.productKey}/${triple.deviceName}/thing/event/property/post`,
          { qos: 1 },
        )
        cloud.on('message', (_t, p) => received.push(postIndex(p)))
        await using device = new Connection({ ...triple, brokerUrl: mosq.url, reconnect })
        await restartSoak(device, {
          stop: () => mosq.stop(),
          start: () => mosq.start(),
          downlink: async (topic, payload) => {
            await new Promise<void>((resolve) =>
              cloud.connected ? resolve() : cloud.once('connect', () => resolve()),
            )
            await cloud.publishAsync(topic, payload, { qos: 1 })
          },
          received: () => received,
        })
      } finally {
        await cloud.endAsync(true)
        await mosq.close()
      }
    },
    90_000,
  )
})
