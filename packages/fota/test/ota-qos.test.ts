import { Connection, Topics } from '@linkkit/core'
import { describe, expect, it } from 'vitest'
import { FotaClient } from '../src/fota-client.js'
import { OtaSession } from '../src/ota-session.js'
import { RawBroker } from './helpers/raw-broker.js'

const triple = {
  productKey: 'a1OtaQos01',
  deviceName: 'ota-qos-1',
  deviceSecret: '0123456789abcdef0123456789abcdef',
}

/** QoS per topic as the broker saw it: SUBSCRIBE requests and PUBLISHes of the device. */
function view(b: RawBroker) {
  const subscribed = Object.fromEntries(b.subscribed.map((s) => [s.topic, s.qos]))
  const published = b.published.map((p) => [p.topic, p.qos] as const)
  return { subscribed, published }
}

describe('OTA QoS as the C SDK 3.x uses it (docs/protocol.md §3.1, §4.1)', () => {
  it('OtaSession: upgrade and request subscribed at QoS 1, config topics at QoS 0; inform QoS 1, progress and config get QoS 0', async () => {
    await using b = await RawBroker.start()
    await using c = new Connection({ ...triple, brokerUrl: b.url })
    await c.connect()
    await using ota = new OtaSession(c, {})
    await ota.ready
    await ota.reportVersion('1.0.0')
    await ota.reportProgress(10, 'fetching')
    await ota.requestConfig()
    await expect.poll(() => b.published.length).toBe(3)
    const { subscribed, published } = view(b)
    expect(subscribed).toEqual({
      [Topics.otaUpgrade(triple)]: 1,
      [Topics.otaRequest(triple)]: 1,
      [Topics.configPush(triple)]: 0,
      [Topics.reply(Topics.configGet(triple))]: 0,
    })
    expect(published).toEqual([
      [Topics.otaInform(triple), 1],
      [Topics.otaProgress(triple), 0],
      [Topics.configGet(triple), 0],
    ])
  })

  it('FotaClient: upgrade subscribed at QoS 1, config push at QoS 0; inform QoS 1, progress QoS 0', async () => {
    await using b = await RawBroker.start()
    await using c = new Connection({ ...triple, brokerUrl: b.url })
    await using fota = new FotaClient(c, { version: '1.0.0', modules: { mcu: { version: '2.0' } } })
    await fota.start()
    await c.connect()
    await fota.reportProgress(-2, 'fetch failed', 'mcu')
    await expect.poll(() => b.published.length).toBe(3)
    const { subscribed, published } = view(b)
    expect(subscribed[Topics.otaUpgrade(triple)]).toBe(1)
    expect(subscribed[Topics.configPush(triple)]).toBe(0)
    expect([...published].sort()).toEqual(
      [
        [Topics.otaInform(triple), 1],
        [Topics.otaInform(triple), 1],
        [Topics.otaProgress(triple), 0],
      ].sort(),
    )
  })
})
