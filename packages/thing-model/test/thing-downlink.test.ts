import { describe, expect, it } from 'vitest'
import { ServiceError, ThingClient } from '../src/index.js'
import { lamp, startRig, sys } from './helpers/setup.js'

describe('ThingClient property set', () => {
  it('passes validated params to the handler, emits property:set and replies 200', async () => {
    await using rig = await startRig({ thingModel: lamp })
    const applied: unknown[] = []
    const events: unknown[] = []
    rig.client.onPropertySet(async (params) => {
      await new Promise((r) => setTimeout(r, 10))
      applied.push(params)
    })
    rig.client.on('property:set', (e) => events.push(e))
    const reply = await rig.cloud.setProperties({ Brightness: 30, RGBColor: { Red: 1, Green: 2, Blue: 3 } })
    expect(reply).toEqual({ id: reply.id, code: 200, data: {} })
    expect(applied).toEqual([{ Brightness: 30, RGBColor: { Red: 1, Green: 2, Blue: 3 } }])
    expect(events).toEqual([
      { params: { Brightness: 30, RGBColor: { Red: 1, Green: 2, Blue: 3 } }, id: reply.id },
    ])
    expect(rig.client.properties).toMatchObject({ Brightness: 30 })
    expect(rig.errors).toEqual([])
  })

  it('answers TSL violations with the platform code and does not call the handler', async () => {
    await using rig = await startRig({ thingModel: lamp })
    let calls = 0
    rig.client.onPropertySet(() => {
      calls++
    })
    expect((await rig.cloud.setProperties({ Brightness: 101 })).code).toBe(6306)
    expect((await rig.cloud.setProperties({ WorkMode: 9 })).code).toBe(6309)
    expect((await rig.cloud.setProperties({ Temperature: 20.5 })).code).toBe(6304)
    expect((await rig.cloud.setProperties({ Nope: 1 })).code).toBe(6320)
    expect((await rig.cloud.setProperties('not an object')).code).toBe(6301)
    expect(calls).toBe(0)
    expect(rig.errors.map((e) => e.code)).toEqual([
      'ERR_TSL_VALIDATION',
      'ERR_TSL_VALIDATION',
      'ERR_TSL_VALIDATION',
      'ERR_TSL_UNKNOWN_IDENTIFIER',
      'ERR_TSL_VALIDATION',
    ])
    expect(rig.errors.every((e) => e.topic === `${sys}/thing/service/property/set`)).toBe(true)
  })

  it('without a handler still replies 200 and emits property:set (3.x auto-reply)', async () => {
    await using rig = await startRig()
    const events: unknown[] = []
    rig.client.on('property:set', (e) => events.push(e.params))
    expect((await rig.cloud.setProperties({ anything: 'goes' })).code).toBe(200)
    expect(events).toEqual([{ anything: 'goes' }])
    expect((await rig.cloud.setProperties([1, 2])).code).toBe(460)
  })

  it('answers a ServiceError with its code, any other throw with 400 and an error event', async () => {
    await using rig = await startRig({ thingModel: lamp })
    rig.client.onPropertySet((params) => {
      if ('Brightness' in params) throw new ServiceError(100_042, 'dimmer busy')
      throw new Error('driver crashed')
    })
    const refused = await rig.cloud.setProperties({ Brightness: 5 })
    expect(refused).toMatchObject({ code: 100_042, message: 'dimmer busy' })
    expect(rig.errors).toEqual([])
    const crashed = await rig.cloud.setProperties({ WorkMode: 1 })
    expect(crashed.code).toBe(400)
    expect(crashed.message).not.toContain('driver crashed')
    expect(rig.errors.map((e) => [e.code, e.replyCode])).toEqual([['ERR_SERVICE', 400]])
    expect(rig.client.properties).not.toHaveProperty('WorkMode')
    expect(() => new ServiceError(200)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })
})

describe('ThingClient property get', () => {
  it('answers from the handler, validated against the model', async () => {
    await using rig = await startRig({ thingModel: lamp })
    rig.client.onPropertyGet((ids) => Object.fromEntries(ids.map((id) => [id, id === 'Brightness' ? 42 : 1])))
    expect(await rig.cloud.getProperties(['Brightness', 'LightSwitch'])).toMatchObject({
      code: 200,
      data: { Brightness: 42, LightSwitch: 1 },
    })
    expect((await rig.cloud.getProperties(['Nope'])).code).toBe(6320)
    rig.client.onPropertyGet(() => ({ Brightness: 1000 }))
    expect((await rig.cloud.getProperties(['Brightness'])).code).toBe(6306)
    expect(rig.errors.map((e) => e.code)).toEqual(['ERR_TSL_UNKNOWN_IDENTIFIER', 'ERR_TSL_VALIDATION'])
  })

  it('without a handler answers from the last posted or set values, 460 for unknown ones', async () => {
    await using rig = await startRig()
    await rig.client.postProperties({ Power: { value: 'on', time: 1 } })
    await rig.cloud.setProperties({ Level: 3 })
    expect(await rig.cloud.getProperties(['Power', 'Level'])).toMatchObject({
      code: 200,
      data: { Power: 'on', Level: 3 },
    })
    expect((await rig.cloud.getProperties(['Power', 'Never'])).code).toBe(460)
    expect((await rig.cloud.getProperties({ not: 'an array' })).code).toBe(460)
  })
})

describe('ThingClient services', () => {
  it('runs an async service and replies with its output on <topic>_reply', async () => {
    await using rig = await startRig({ thingModel: lamp })
    const seen: unknown[] = []
    rig.client.on('service', (e) => seen.push(e))
    rig.client.onService('wakeup', async (params, info) => {
      expect(info.sync).toBe(false)
      return { out: Number(params.delaySeconds) + 1 }
    })
    const reply = await rig.cloud.invokeService('wakeup', { delaySeconds: 5 })
    expect(reply).toEqual({ id: reply.id, code: 200, data: { out: 6 } })
    expect(seen).toEqual([{ serviceId: 'wakeup', params: { delaySeconds: 5 }, id: reply.id, sync: false }])
  })

  it('answers sync services over legacy RRPC (service id from method) and ext RRPC (same topic)', async () => {
    await using rig = await startRig({ thingModel: lamp }, { clientIdExtensions: { ext: '1' } })
    const calls: Array<[unknown, boolean]> = []
    rig.client.onService('Blink', (params, info) => {
      calls.push([params.times, info.sync])
      return {}
    })
    const legacy = await rig.cloud.invokeService('Blink', { times: 2 }, 'legacy')
    expect(legacy.code).toBe(200)
    const ext = await rig.cloud.invokeService('Blink', { times: 3 }, 'ext')
    expect(ext).toEqual({ id: ext.id, code: 200, data: {} })
    expect(calls).toEqual([
      [2, true],
      [3, true],
    ])
    const legacyResponse = rig.devicePublished().filter((p) => p.topic.includes('/rrpc/response/'))
    expect(legacyResponse).toHaveLength(1)
    await new Promise((r) => setTimeout(r, 50))
    // The device's own ext reply comes back from the broker; it must not be taken for a request.
    expect(calls).toHaveLength(2)
    expect(rig.errors).toEqual([])
  })

  it('answers the property set over ext RRPC too', async () => {
    await using rig = await startRig({ thingModel: lamp })
    const topic = `/ext/rrpc/77${sys}/thing/service/property/set`
    const reply = await rig.cloud.call(topic, topic, 'thing.service.property.set', { Brightness: 7 })
    expect(reply.code).toBe(200)
    expect(rig.client.properties).toMatchObject({ Brightness: 7 })
  })

  it('answers 6300 for a service not in the model, and for one without a handler', async () => {
    await using rig = await startRig({ thingModel: lamp })
    const seen: string[] = []
    rig.client.on('service', (e) => seen.push(e.serviceId))
    expect((await rig.cloud.invokeService('selfDestruct', {})).code).toBe(6300)
    expect((await rig.cloud.invokeService('wakeup', { delaySeconds: 1 })).code).toBe(6300)
    expect(seen).toEqual(['wakeup'])
    expect(rig.errors.map((e) => e.code)).toEqual(['ERR_TSL_UNKNOWN_IDENTIFIER', 'ERR_SERVICE_NOT_FOUND'])
    const legacy = await rig.cloud.call(`${sys}/rrpc/request/9`, `${sys}/rrpc/response/9`, 'thing.bogus', {})
    expect(legacy.code).toBe(6300)
  })

  it('rejects invalid input without calling the handler, and invalid output with the platform code', async () => {
    await using rig = await startRig({ thingModel: lamp })
    let calls = 0
    rig.client.onService('wakeup', () => {
      calls++
      return { out: 999 }
    })
    expect((await rig.cloud.invokeService('wakeup', { delaySeconds: -1 })).code).toBe(6306)
    expect((await rig.cloud.invokeService('wakeup', { bogus: 1 })).code).toBe(6304)
    expect(calls).toBe(0)
    expect((await rig.cloud.invokeService('wakeup', { delaySeconds: 1 })).code).toBe(6306)
    expect(calls).toBe(1)
    expect(rig.errors.at(-1)).toMatchObject({
      code: 'ERR_TSL_VALIDATION',
      topic: `${sys}/thing/service/wakeup`,
    })
    expect(rig.errors.at(-1)?.message).toContain('output')
  })

  it('answers a throwing handler with 400 and a handler that never answers with 400 after replyTimeoutMs', async () => {
    await using rig = await startRig({ replyTimeoutMs: 200 })
    rig.client.onService('boom', () => {
      throw new TypeError('oops')
    })
    let aborted = false
    rig.client.onService('hang', (_params, { signal }) => {
      signal.addEventListener('abort', () => {
        aborted = true
      })
      return new Promise(() => {})
    })
    rig.client.onService('slow', () => new Promise((r) => setTimeout(() => r({ ok: 1 }), 300)), {
      timeoutMs: 1000,
    })
    expect((await rig.cloud.invokeService('boom', {})).code).toBe(400)
    const started = Date.now()
    expect((await rig.cloud.invokeService('hang', {}, 'legacy')).code).toBe(400)
    expect(Date.now() - started).toBeGreaterThanOrEqual(190)
    expect(aborted).toBe(true)
    expect(await rig.cloud.invokeService('slow', {})).toMatchObject({ code: 200, data: { ok: 1 } })
    expect(rig.errors.map((e) => [e.code, e.details?.timedOut])).toEqual([
      ['ERR_SERVICE', false],
      ['ERR_SERVICE', true],
    ])
  })

  it('keeps answering when a listener throws', async () => {
    await using rig = await startRig()
    rig.client.on('service', () => {
      throw new Error('listener bug')
    })
    rig.client.on('property:set', () => {
      throw new Error('listener bug')
    })
    rig.client.onService('ping', () => ({ pong: 1 }))
    expect(await rig.cloud.invokeService('ping', {})).toMatchObject({ code: 200, data: { pong: 1 } })
    expect((await rig.cloud.setProperties({ a: 1 })).code).toBe(200)
    expect(rig.errors.map((e) => e.details?.event)).toEqual(['service', 'property:set'])
  })
})

describe('ThingClient raw down', () => {
  it('emits raw, runs the handler and publishes its bytes on down_raw_reply and on the ext RRPC topic', async () => {
    await using rig = await startRig()
    const seen: Array<[string, boolean]> = []
    rig.client.on('raw', (e) => seen.push([e.payload.toString('hex'), e.sync]))
    rig.client.onRaw((bytes) => Buffer.from(bytes).reverse())
    expect(await rig.cloud.sendRaw(Buffer.from([1, 2, 3]))).toEqual(Buffer.from([3, 2, 1]))
    expect(await rig.cloud.sendRaw(Buffer.from([4, 5]), true)).toEqual(Buffer.from([5, 4]))
    await new Promise((r) => setTimeout(r, 50))
    expect(seen).toEqual([
      ['010203', false],
      ['0405', true],
    ])
  })
})

describe('ThingClient lifecycle', () => {
  it('can start after connect, and stops answering once closed', async () => {
    await using rig = await startRig()
    await rig.client.close()
    const late = new ThingClient(rig.connection)
    await late.start()
    await late.start()
    expect((await rig.cloud.setProperties({ a: 1 })).code).toBe(200)
    expect(rig.cloud.on(`${sys}/thing/service/property/set_reply`)).toHaveLength(1)
    await late.close()
    await late.close()
    rig.cloud.replyTimeoutMs = 300
    await expect(rig.cloud.setProperties({ a: 2 })).rejects.toThrow(/nothing matching/)
    expect(rig.cloud.on(`${sys}/thing/service/property/set_reply`)).toHaveLength(1)
  })
})
