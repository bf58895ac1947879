import { findMosquitto, MosquittoProcess, mosquittoRequired } from '@linkkit/testing/mosquitto'
import { PlainBroker } from '@linkkit/testing/plain-broker'
import mqtt from 'mqtt'
import { describe, expect, it } from 'vitest'
import { type DeviceTriple, simulateFleet } from '../src/index.js'
import { afterIdentity } from '../src/routing.js'
import { LAMP_TSL, until } from './helpers.js'

const bin = findMosquitto()

// Two products with a device of the same name, and two names of which one is a prefix of the other.
const devices: DeviceTriple[] = [
  { productKey: 'a1RouteProdA', deviceName: 'lamp-1', deviceSecret: 'secret-a-1'.padEnd(32, 'x') },
  { productKey: 'a1RouteProdA', deviceName: 'lamp-10', deviceSecret: 'secret-a-10'.padEnd(32, 'x') },
  { productKey: 'a1RouteProdB', deviceName: 'lamp-1', deviceSecret: 'secret-b-1'.padEnd(32, 'x') },
]

interface Heard {
  topic: string
  body: { id?: string; code?: number; params?: Record<string, unknown>; data?: unknown }
}

/**
 * Plays the cloud on a bare broker (no emulator, no ACL): sends each device requests and replies
 * on its topics by hand, and watches everything the devices publish.
 */
async function routing(url: string): Promise<void> {
  await using fleet = await simulateFleet({
    url,
    devices,
    thingModel: LAMP_TSL,
    postIntervalMs: 200,
    // Nothing answers posts on a bare broker: none may time out while the test runs.
    requestTimeoutMs: 120_000,
    seed: 9,
  })
  const cloud = await mqtt.connectAsync(url, { clientId: 'cloud-stand-in', reconnectPeriod: 0 })
  const heard: Heard[] = []
  cloud.on('message', (topic, payload) => heard.push({ topic, body: JSON.parse(payload.toString()) }))
  await cloud.subscribeAsync('/sys/#', { qos: 1 })
  try {
    await fleet.whenConnected()
    const request = (topic: string, id: string, params: unknown, method: string) =>
      cloud.publishAsync(topic, JSON.stringify({ id, version: '1.0', params, method }), { qos: 1 })
    const replies = (id: string) => heard.filter((h) => h.topic.endsWith('_reply') && h.body.id === id)

    // A property set for A/lamp-1 is answered by A/lamp-1 once (its echo of its own reply is dropped).
    await request(
      '/sys/a1RouteProdA/lamp-1/thing/service/property/set',
      '901',
      { Label: 'only-a-lamp-1' },
      'thing.service.property.set',
    )
    await until('the set reply', () => replies('901').length > 0)
    // A second request to the same device is a barrier: a reply it sent for the echo would come first.
    await request(
      '/sys/a1RouteProdA/lamp-1/thing/service/wakeup',
      '902',
      { delaySeconds: 1 },
      'thing.service.wakeup',
    )
    await until('the service reply', () => replies('902').length > 0)
    expect(replies('901')).toEqual([
      {
        topic: '/sys/a1RouteProdA/lamp-1/thing/service/property/set_reply',
        body: { id: '901', code: 200, data: {} },
      },
    ])
    expect(replies('902')).toEqual([
      {
        topic: '/sys/a1RouteProdA/lamp-1/thing/service/wakeup_reply',
        body: { id: '902', code: 200, data: { out: expect.any(Number) } },
      },
    ])
    // A service the thing model does not have is answered 6300; input out of range with its 63xx code.
    await request('/sys/a1RouteProdB/lamp-1/thing/service/explode', '903', {}, 'thing.service.explode')
    await request(
      '/sys/a1RouteProdB/lamp-1/thing/service/wakeup',
      '904',
      { delaySeconds: -5 },
      'thing.service.wakeup',
    )
    await until('both refusals', () => replies('903').length > 0 && replies('904').length > 0)
    expect(replies('903')[0]).toMatchObject({
      topic: '/sys/a1RouteProdB/lamp-1/thing/service/explode_reply',
      body: { code: 6300 },
    })
    expect(replies('904')[0]?.body.code).toBeGreaterThan(6300)

    // Only A/lamp-1 posts the label it was set.
    const posts = (pk: string, dn: string) =>
      heard.filter((h) => h.topic === `/sys/${pk}/${dn}/thing/event/property/post`)
    await until('every device to post after the set', () =>
      devices.every((d) =>
        posts(d.productKey, d.deviceName).some((p) => heard.indexOf(p) > heard.indexOf(replies('902')[0]!)),
      ),
    )
    const last = (pk: string, dn: string) => posts(pk, dn).at(-1)?.body.params?.Label
    expect(last('a1RouteProdA', 'lamp-1')).toBe('only-a-lamp-1')
    expect(last('a1RouteProdA', 'lamp-10')).not.toBe('only-a-lamp-1')
    expect(last('a1RouteProdB', 'lamp-1')).not.toBe('only-a-lamp-1')

    // Replies: one with an id nobody sent, one to A/lamp-1's post sent on B/lamp-1's reply topic
    // (B/lamp-1 never sent that id), then the right one. Only the last settles a post.
    const post = posts('a1RouteProdA', 'lamp-1').at(-1)!
    const reply = (pk: string, dn: string, id: string) =>
      cloud.publishAsync(
        `/sys/${pk}/${dn}/thing/event/property/post_reply`,
        JSON.stringify({ id, code: 200, data: {} }),
        { qos: 1 },
      )
    await reply('a1RouteProdA', 'lamp-1', '4000000001')
    await reply('a1RouteProdB', 'lamp-1', post.body.id!)
    await reply('a1RouteProdA', 'lamp-10', post.body.id!)
    await reply('a1RouteProdA', 'lamp-1', post.body.id!)
    await until('the post to be answered', () => fleet.metrics().posts.answered > 0)
    // Replies on one connection arrive in order, and the stray ones were sent first: all were seen.
    await reply('a1RouteProdA', 'lamp-1', post.body.id!)
    await request(
      '/sys/a1RouteProdA/lamp-1/thing/service/wakeup',
      '905',
      { delaySeconds: 1 },
      'thing.service.wakeup',
    )
    await until('the barrier reply', () => replies('905').length > 0)
    const m = fleet.metrics()
    expect(m.posts.answered).toBe(1)
    expect(m.posts.failed).toBe(0)
    expect(m.services).toBe(2)
    expect(m.propertySets).toBe(1)
    expect(Object.keys(m.errors).sort()).toEqual(['ERR_TSL_UNKNOWN_IDENTIFIER', 'ERR_TSL_VALIDATION'])
  } finally {
    await cloud.endAsync()
  }
}

describe('a fleet routes each message to its own device', () => {
  it('tells a topic of the device from one of another product or of a name it is a prefix of', () => {
    const a1 = { productKey: 'a1P', deviceName: 'lamp-1' }
    expect(afterIdentity('/sys/a1P/lamp-1/thing/service/set', 5, a1)).toBe('/sys/a1P/lamp-1'.length)
    expect(afterIdentity('/ota/device/upgrade/a1P/lamp-1', 20, a1)).toBe(
      '/ota/device/upgrade/a1P/lamp-1'.length,
    )
    expect(afterIdentity('/sys/a1P/lamp-10/thing/service/set', 5, a1)).toBe(-1)
    expect(afterIdentity('/sys/a1PX/lamp-1/thing/service/set', 5, a1)).toBe(-1)
    expect(afterIdentity('/sys/a1Q/lamp-1/thing/service/set', 5, a1)).toBe(-1)
    expect(afterIdentity('/sys/a1P/lamp/1', 5, a1)).toBe(-1)
  })

  it('on a bare aedes broker: requests answered by the device addressed only, stray replies ignored', async () => {
    await using broker = await PlainBroker.start()
    await routing(broker.url)
  }, 30_000)

  it.skipIf(!bin && !mosquittoRequired)(
    'through Mosquitto: the same',
    async () => {
      const mosq = await MosquittoProcess.startRequired(bin)
      try {
        await routing(mosq.url)
      } finally {
        await mosq.close()
      }
    },
    30_000,
  )
})
