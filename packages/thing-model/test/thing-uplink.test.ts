import { isLinkkitError, type LinkkitError } from '@linkkit/core'
import { describe, expect, it } from 'vitest'
import { parse } from './helpers/cloud.js'
import { lamp, startRig, sys } from './helpers/setup.js'

const postTopic = `${sys}/thing/event/property/post`

async function rejection(promise: Promise<unknown>): Promise<LinkkitError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!isLinkkitError(error)) throw new Error(`expected a LinkkitError, got ${String(error)}`)
  return error
}

describe('ThingClient uplinks', () => {
  it('posts properties and resolves on the 200 reply; plain and timestamped values pass through', async () => {
    await using rig = await startRig({ thingModel: lamp })
    const reply = await rig.client.postProperties({
      Brightness: 80,
      Temperature: { value: 21.5, time: 1_700_000_000_000 },
    })
    expect(reply.code).toBe(200)
    const [sent] = rig.cloud.on(postTopic)
    expect(parse(sent!.payload)).toMatchObject({
      version: '1.0',
      method: 'thing.event.property.post',
      params: { Brightness: 80, Temperature: { value: 21.5, time: 1_700_000_000_000 } },
    })
    expect(rig.client.properties).toMatchObject({ Brightness: 80, Temperature: 21.5 })
  })

  it('rejects with ERR_REPLY carrying the cloud code', async () => {
    await using rig = await startRig()
    rig.cloud.respond.set('thing.event.property.post', () => ({
      code: 6106,
      message: 'map size must less than 200',
    }))
    const error = await rejection(rig.client.postProperties({ a: 1 }))
    expect(error.code).toBe('ERR_REPLY')
    expect(error.replyCode).toBe(6106)
  })

  it('with ack 0 sends sys.ack 0 and resolves once sent, with no reply', async () => {
    await using rig = await startRig()
    const reply = await rig.client.postProperties({ a: 1 }, { ack: 0 })
    expect(reply.code).toBe(200)
    const sent = await rig.cloud.waitFor((m) => m.topic === postTopic)
    expect(parse(sent.payload)?.sys).toEqual({ ack: 0 })
    expect(rig.cloud.on(`${postTopic}_reply`)).toEqual([])
  })

  it('refuses TSL-invalid values and unknown identifiers before publishing anything', async () => {
    await using rig = await startRig({ thingModel: lamp })
    const tooBright = await rejection(rig.client.postProperties({ Brightness: 101 }))
    expect(tooBright.code).toBe('ERR_TSL_VALIDATION')
    expect(tooBright.details).toMatchObject({ identifier: 'Brightness', rule: 'max', platformCode: 6306 })
    const unknown = await rejection(rig.client.postProperties({ Nope: 1 }))
    expect(unknown.code).toBe('ERR_TSL_UNKNOWN_IDENTIFIER')
    const badEvent = await rejection(rig.client.postEvent('lowpower', { power: 'low' }))
    expect(badEvent.code).toBe('ERR_TSL_VALIDATION')
    const noEvent = await rejection(rig.client.postEvent('missing', { x: 1 }))
    expect(noEvent.code).toBe('ERR_TSL_UNKNOWN_IDENTIFIER')
    const badBatch = await rejection(
      rig.client.postBatch({ properties: { Brightness: [{ value: 500, time: 1 }] } }),
    )
    expect(badBatch.code).toBe('ERR_TSL_VALIDATION')
    await new Promise((r) => setTimeout(r, 100))
    expect(rig.devicePublished()).toEqual([])
  })

  it('refuses more than 200 properties, bad event ids and non-objects as ERR_INVALID_ARGUMENT / ERR_INVALID_TOPIC_VALUE', async () => {
    await using rig = await startRig()
    const many = Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`p${i}`, i]))
    expect((await rejection(rig.client.postProperties(many))).code).toBe('ERR_INVALID_ARGUMENT')
    expect((await rejection(rig.client.postProperties([] as never))).code).toBe('ERR_INVALID_ARGUMENT')
    expect((await rejection(rig.client.postEvent('a/b', {}))).code).toBe('ERR_INVALID_TOPIC_VALUE')
    expect((await rejection(rig.client.postEvent('+', {}))).code).toBe('ERR_INVALID_TOPIC_VALUE')
    expect((await rejection(rig.client.postEvent('property', {}))).code).toBe('ERR_INVALID_ARGUMENT')
    await new Promise((r) => setTimeout(r, 50))
    expect(rig.devicePublished()).toEqual([])
    const exactly200 = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`p${i}`, i]))
    expect((await rig.client.postProperties(exactly200)).code).toBe(200)
  })

  it('posts an event on its own topic, bare or wrapped', async () => {
    await using rig = await startRig({ thingModel: lamp })
    await rig.client.postEvent('lowpower', { power: 10 })
    await rig.client.postEvent('Error', { value: { ErrorCode: 1 }, time: 1_700_000_000_000 })
    const topic = `${sys}/thing/event/lowpower/post`
    expect(parse(rig.cloud.on(topic)[0]!.payload)).toMatchObject({
      method: 'thing.event.lowpower.post',
      params: { power: 10 },
    })
    expect(parse(rig.cloud.on(`${sys}/thing/event/Error/post`)[0]!.payload)?.params).toEqual({
      value: { ErrorCode: 1 },
      time: 1_700_000_000_000,
    })
  })

  it('posts batch and history in their documented shapes', async () => {
    await using rig = await startRig({ thingModel: lamp })
    await rig.client.postBatch({
      properties: {
        Brightness: [
          { value: 1, time: 1 },
          { value: 2, time: 2 },
        ],
      },
      events: { lowpower: [{ value: { power: 5 }, time: 3 }] },
    })
    await rig.client.postHistory([
      {
        properties: [{ Brightness: { value: 3, time: 4 } }],
        events: [{ lowpower: { value: { power: 1 }, time: 5 } }],
      },
    ])
    const batch = parse(rig.cloud.on(`${sys}/thing/event/property/batch/post`)[0]!.payload)
    expect(batch).toMatchObject({
      method: 'thing.event.property.batch.post',
      params: {
        properties: {
          Brightness: [
            { value: 1, time: 1 },
            { value: 2, time: 2 },
          ],
        },
      },
    })
    const history = parse(rig.cloud.on(`${sys}/thing/event/property/history/post`)[0]!.payload)
    expect(history?.method).toBe('thing.event.property.history.post')
    expect(history?.params).toEqual([
      {
        identity: { productKey: rig.connection.productKey, deviceName: rig.connection.deviceName },
        properties: [{ Brightness: { value: 3, time: 4 } }],
        events: [{ lowpower: { value: { power: 1 }, time: 5 } }],
      },
    ])
  })

  it('gets and deletes desired values, emitting `desired`', async () => {
    await using rig = await startRig()
    rig.cloud.desired = { power: { value: 'on', version: 2 } }
    const seen: unknown[] = []
    rig.client.on('desired', (v) => seen.push(v))
    expect(await rig.client.getDesired(['power', 'temperature'])).toEqual({
      power: { value: 'on', version: 2 },
    })
    expect(seen).toEqual([{ power: { value: 'on', version: 2 } }])
    await rig.client.deleteDesired({ power: { version: 2 }, temperature: {} })
    expect(parse(rig.cloud.on(`${sys}/thing/property/desired/delete`)[0]!.payload)?.params).toEqual({
      power: { version: 2 },
      temperature: {},
    })
  })

  it('updates and deletes tags', async () => {
    await using rig = await startRig()
    await rig.client.updateTags([{ attrKey: 'room', attrValue: 'kitchen' }])
    await rig.client.deleteTags(['room'])
    expect(parse(rig.cloud.on(`${sys}/thing/deviceinfo/update`)[0]!.payload)).toMatchObject({
      method: 'thing.deviceinfo.update',
      params: [{ attrKey: 'room', attrValue: 'kitchen' }],
    })
    expect(parse(rig.cloud.on(`${sys}/thing/deviceinfo/delete`)[0]!.payload)?.params).toEqual([
      { attrKey: 'room' },
    ])
    expect((await rejection(rig.client.updateTags([{ attrKey: '', attrValue: 'x' }]))).code).toBe(
      'ERR_INVALID_ARGUMENT',
    )
  })

  it('subscribes the reply topics up front: requests add no SUBSCRIBE', async () => {
    await using rig = await startRig()
    const subscribe = rig.connection.subscribe.bind(rig.connection)
    const extra: string[] = []
    rig.connection.subscribe = (filter, ...rest) => {
      extra.push(filter)
      return subscribe(filter, ...rest)
    }
    await rig.client.postProperties({ a: 1 })
    await rig.client.postEvent('alarm', { a: 1 })
    await rig.client.postBatch({ properties: { a: [{ value: 1, time: 1 }] } })
    await rig.client.postHistory([{ properties: [{ a: { value: 1, time: 1 } }] }])
    await rig.client.getDesired(['a'])
    await rig.client.deleteDesired({ a: {} })
    await rig.client.updateTags([{ attrKey: 'k', attrValue: 'v' }])
    await rig.client.deleteTags(['k'])
    expect(extra).toEqual([])
  })

  it('computes server time from an NTP exchange', async () => {
    let local = 1_000_000
    await using rig = await startRig({ now: () => local })
    rig.cloud.now = () => 5_000_000
    const pending = rig.client.ntp()
    local = 1_000_040
    const result = await pending
    // (5_000_000 + 5_000_000 + 1_000_040 − 1_000_000) / 2
    expect(result.serverTimeMs).toBe(5_000_020)
    expect(result.offsetMs).toBe(5_000_020 - 1_000_040)
    expect(result.roundTripMs).toBe(40)
  })

  it('posts raw bytes and resolves with the up_raw_reply bytes, in order', async () => {
    await using rig = await startRig()
    const [a, b] = await Promise.all([
      rig.client.postRaw(Buffer.from([1, 2])),
      rig.client.postRaw(Buffer.from([3])),
    ])
    expect(a).toEqual(Buffer.concat([Buffer.from('ack:'), Buffer.from([1, 2])]))
    expect(b).toEqual(Buffer.concat([Buffer.from('ack:'), Buffer.from([3])]))
    expect(rig.errors).toEqual([])
  })

  it('turns an /ext/error notice into cloud:error and an ERR_CLOUD_ERROR error', async () => {
    await using rig = await startRig()
    const notices: unknown[] = []
    rig.client.on('cloud:error', (n) => notices.push(n))
    await rig.cloud.publish(`/ext/error/${rig.connection.productKey}/${rig.connection.deviceName}`, {
      code: 6100,
      message: 'device not found',
      data: {},
    })
    await expect.poll(() => notices).toEqual([{ code: 6100, message: 'device not found', data: {} }])
    expect(rig.errors.map((e) => [e.code, e.replyCode, e.topic])).toEqual([
      ['ERR_CLOUD_ERROR', 6100, `/ext/error/${rig.connection.productKey}/${rig.connection.deviceName}`],
    ])
  })

  it('rejects calls after close with ERR_CLOSED', async () => {
    await using rig = await startRig()
    await rig.client.close()
    expect((await rejection(rig.client.postProperties({ a: 1 }))).code).toBe('ERR_CLOSED')
    expect((await rejection(rig.client.ntp())).code).toBe('ERR_CLOSED')
    expect((await rejection(rig.client.start())).code).toBe('ERR_CLOSED')
  })
})
