import { describe, expect, it, vi } from 'vitest'
import { device, lampEmulator, request, SYS } from './alink-helpers.js'
import { connect, credentials, DEVICE, DN, OTHER, PK } from './helpers.js'

const TOPICS = [
  'thing/event/property/post',
  'thing/event/lowpower/post',
  'thing/event/property/batch/post',
  'thing/event/property/history/post',
  'thing/property/desired/get',
  'thing/property/desired/delete',
  'thing/deviceinfo/update',
  'thing/deviceinfo/delete',
  'thing/config/get',
  'thing/dsltemplate/get',
].map((rest) => `${SYS}/${rest}`)

const HOSTILE = [
  '',
  '[]',
  '42',
  '{"id":{},"params":{}}',
  '{"id":-1,"params":{}}',
  '{"id":"1","params":null}',
  '{"id":"2","params":{"properties":5,"events":[]}}',
  '{"id":"3","params":[null,1,"x",{"identity":7}]}',
  '{"id":"4","params":{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}}',
  '{"id":"5","params":[{"attrKey":{"toString":1},"attrValue":[]}]}',
  '{"id":"6","params":{"Brightness":{"value":{"value":{"value":1}}}},"sys":"ack"}',
  `{"id":"7","params":{"x":"${'\\u0000'.repeat(1000)}"}}`,
  '{"id":"8","params":{"properties":{"Brightness":[1,null,{"value":2}]},"events":{"lowpower":7}}}',
]

describe('hostile uplinks', () => {
  it('never crash the emulator: every reply is a well-formed platform reply and valid posts still work', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const replies: Array<Record<string, unknown>> = []
    c.on('message', (topic, payload) => {
      if (topic.endsWith('_reply'))
        replies.push(JSON.parse(payload.toString('utf8')) as Record<string, unknown>)
    })
    await Promise.all(
      TOPICS.flatMap((topic) => HOSTILE.map((payload) => c.publishAsync(topic, payload, { qos: 1 }))),
    )
    const valid = JSON.stringify({ id: 'ok', params: { Brightness: 9 } })
    await c.publishAsync(`${SYS}/thing/event/property/post`, valid, { qos: 1 })
    await vi.waitFor(() => expect(replies.find((r) => r.id === 'ok')).toMatchObject({ code: 200 }), 2000)
    expect(replies.length).toBeGreaterThan(TOPICS.length * 5)
    for (const reply of replies) {
      expect(typeof reply.id).toBe('string')
      expect(Number.isInteger(reply.code)).toBe(true)
      expect(reply.version).toBe('1.0')
      expect(reply.code).not.toBe(500)
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(emu.device(PK, DN)?.properties?.Brightness?.value).toBe(9)
    expect(emu.device(PK, DN)?.online).toBe(true)
  })

  it('keeps a hostile __proto__ identifier as a plain key on a product without a TSL', async () => {
    await using emu = await lampEmulator({ tsl: false })
    const c = await device(emu)
    const post = '{"id":"1","params":{"__proto__":{"value":1},"toString":2}}'
    expect(await request(c, `${SYS}/thing/event/property/post`, post)).toMatchObject({ code: 200 })
    const props = emu.device(PK, DN)?.properties ?? {}
    expect(Object.keys(props).sort()).toEqual(['__proto__', 'toString'])
    expect(({} as Record<string, unknown>).value).toBeUndefined()
  })
})

describe('history post for a sub-device', () => {
  it('stores the samples of a device the ACL grants to the posting gateway', async () => {
    await using emu = await lampEmulator({ devices: [DEVICE, OTHER] })
    emu.acl.allow({ productKey: PK, deviceName: DN }, OTHER)
    const c = await connect(emu.mqttUrl, credentials({ params: { _ss: '1' } }))
    const sub = { productKey: OTHER.productKey, deviceName: OTHER.deviceName }
    const reply = await request(c, `${SYS}/thing/event/property/history/post`, {
      id: '1',
      params: [{ identity: sub, properties: [{ Humidity: { value: 40, time: 1000 } }] }],
    })
    expect(reply).toMatchObject({ code: 200 })
    expect(emu.device(sub.productKey, sub.deviceName)?.properties).toEqual({
      Humidity: { value: 40, time: 1000 },
    })
  })
})
