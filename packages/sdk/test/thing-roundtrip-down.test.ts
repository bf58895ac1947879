import type { CloudErrorNotice, PropertySetEvent, RawDownEvent, ServiceEvent } from '@linkkit/thing-model'
import { describe, expect, it } from 'vitest'
import { type ConfigOffer, isLinkkitError, ServiceError } from '../src/index.js'
import { DN, lamp, PK, SYS } from './thing-roundtrip-helpers.js'

const RGB = { Red: 10, Green: 20, Blue: 30 }

describe('downlinks from the emulator through linkkit.open()', () => {
  it('property set: onPropertySet gets the validated params, property:set fires, the emulator gets 200', async () => {
    await using t = await lamp()
    const calls: Array<{ params: Record<string, unknown>; id: string }> = []
    const events: PropertySetEvent[] = []
    t.device.onPropertySet((params, info) => {
      calls.push({ params, id: info.id })
    })
    t.device.on('property:set', (event) => events.push(event))
    const reply = await t.emu.setProperties(PK, DN, { Brightness: 42, RGBColor: RGB })
    expect(reply).toMatchObject({ code: 200, data: {} })
    expect(calls).toEqual([{ params: { Brightness: 42, RGBColor: RGB }, id: reply.id }])
    expect(events).toEqual(calls)
    expect(t.device.thing.properties).toMatchObject({ Brightness: 42, RGBColor: RGB })
    expect(t.uplinks).toContain(`${SYS}/thing/service/property/set_reply`)
    // The emulator checks its own downlinks against the product's TSL before sending them.
    await expect(t.emu.setProperties(PK, DN, { Brightness: 101 })).rejects.toMatchObject({
      code: 'ERR_TSL_VALIDATION',
    })
    expect(calls).toHaveLength(1)
    expect(t.errors).toEqual([])
  })

  it("property set: an invalid set gets the platform's code and never reaches the handler; a ServiceError its code", async () => {
    // The emulator's product has no TSL here, so the invalid values reach the device unchecked.
    await using t = await lamp({ cloudTsl: false })
    let calls = 0
    t.device.onPropertySet(() => {
      calls++
    })
    expect((await t.emu.setProperties(PK, DN, { Brightness: 101 })).code).toBe(6306)
    expect((await t.emu.setProperties(PK, DN, { WorkMode: 7 })).code).toBe(6309)
    expect((await t.emu.setProperties(PK, DN, { Temperature: 20.5 })).code).toBe(6304)
    expect((await t.emu.setProperties(PK, DN, { Humidity: 1 })).code).toBe(6320)
    expect(calls).toBe(0)
    expect(t.errors.map((e) => e.code)).toEqual([
      'ERR_TSL_VALIDATION',
      'ERR_TSL_VALIDATION',
      'ERR_TSL_VALIDATION',
      'ERR_TSL_UNKNOWN_IDENTIFIER',
    ])
    expect(t.errors[0]?.topic).toBe(`${SYS}/thing/service/property/set`)
    t.device.onPropertySet(() => {
      throw new ServiceError(100001, 'motor jammed')
    })
    const jammed = await t.emu.setProperties(PK, DN, { Brightness: 50 })
    expect(jammed).toMatchObject({ code: 100001, message: 'motor jammed' })
    expect(t.device.thing.properties.Brightness).toBeUndefined()
    expect(t.errors).toHaveLength(4)
  })

  it('property get: answered from the last posted values, or by onPropertyGet with TSL-checked output', async () => {
    await using t = await lamp()
    await t.device.postProperties({ LightSwitch: 1, Brightness: 70 })
    const stored = await t.emu.getProperties(PK, DN, ['LightSwitch', 'Brightness'])
    expect(stored).toMatchObject({ code: 200, data: { LightSwitch: 1, Brightness: 70 } })
    expect((await t.emu.getProperties(PK, DN, ['Label'])).code).toBe(460)
    let workMode = 2
    t.device.onPropertyGet((ids) =>
      Object.fromEntries(ids.map((id) => [id, id === 'Label' ? 'desk' : workMode])),
    )
    const answered = await t.emu.getProperties(PK, DN, ['Label', 'WorkMode'])
    expect(answered).toMatchObject({ code: 200, data: { Label: 'desk', WorkMode: 2 } })
    workMode = 9
    expect((await t.emu.getProperties(PK, DN, ['WorkMode'])).code).toBe(6309)
    expect(t.errors.map((e) => e.code)).toEqual(['ERR_TSL_VALIDATION'])
  })

  it('async service: the handler gets validated input; its output is checked against the TSL', async () => {
    await using t = await lamp()
    const events: ServiceEvent[] = []
    t.device.on('service', (event) => events.push(event))
    t.device.onService('wakeup', (params, info) => ({ out: info.sync ? 0 : Number(params.delaySeconds) + 2 }))
    const reply = await t.emu.invokeService(PK, DN, 'wakeup', { delaySeconds: 5 })
    expect(reply).toMatchObject({ code: 200, data: { out: 7 } })
    expect(events).toEqual([{ serviceId: 'wakeup', params: { delaySeconds: 5 }, id: reply.id, sync: false }])
    expect(t.received).toContain(`${SYS}/thing/service/wakeup`)
    expect(t.uplinks).toContain(`${SYS}/thing/service/wakeup_reply`)
    t.device.onService('wakeup', async () => ({ out: 999 }))
    expect((await t.emu.invokeService(PK, DN, 'wakeup', { delaySeconds: 1 })).code).toBe(6306)
    expect(t.errors[0]).toMatchObject({ code: 'ERR_TSL_VALIDATION', topic: `${SYS}/thing/service/wakeup` })
    t.device.onService('wakeup', () => {
      throw new ServiceError(100001, 'not now')
    })
    expect(await t.emu.invokeService(PK, DN, 'wakeup', {})).toMatchObject({
      code: 100001,
      message: 'not now',
    })
  })

  it('sync service over both RRPC forms: ext by default (clientId ext=1), legacy or ext when forced', async () => {
    await using t = await lamp()
    expect(t.snapshot().clientParams.ext).toBe('1')
    const sync: boolean[] = []
    t.device.onService('Blink', async (params, info) => {
      sync.push(info.sync)
      return { done: 1, durationMs: Number(params.times) * Number(params.intervalMs) }
    })
    const legacyRequest = new RegExp(`^${SYS}/rrpc/request/(\\w+)$`)
    const extRequest = new RegExp(`^/ext/rrpc/(\\w+)${SYS}/thing/service/Blink$`)
    for (const [rrpc, form] of [
      [undefined, extRequest],
      ['legacy', legacyRequest],
      ['ext', extRequest],
    ] as const) {
      const from = t.received.length
      const uplinksFrom = t.uplinks.length
      const options = rrpc === undefined ? {} : { rrpc }
      const reply = await t.emu.invokeService(PK, DN, 'Blink', { times: 3, intervalMs: 200 }, options)
      expect(reply).toMatchObject({ code: 200, data: { done: 1, durationMs: 600 } })
      const request = t.received.slice(from).find((topic) => form.test(topic))
      const rrpcId = request === undefined ? undefined : form.exec(request)?.[1]
      expect(rrpcId, `${rrpc ?? 'default'} request topic`).toBeDefined()
      const answer = form === extRequest ? request : `${SYS}/rrpc/response/${rrpcId}`
      expect(t.uplinks.slice(uplinksFrom)).toEqual([answer])
    }
    expect(sync).toEqual([true, true, true])
    // The ext replies come back to the device (it subscribes that topic); they are not taken for requests.
    expect(t.errors).toEqual([])
  })

  it('property set as a sync call, over both RRPC forms', async () => {
    await using t = await lamp()
    const sets: Array<Record<string, unknown>> = []
    t.device.onPropertySet((params) => {
      sets.push(params)
    })
    for (const rrpc of ['legacy', 'ext'] as const) {
      const Label = `via ${rrpc}`
      expect((await t.emu.invokeService(PK, DN, 'set', { Label }, { sync: true, rrpc })).code).toBe(200)
      expect(t.device.thing.properties.Label).toBe(Label)
    }
    expect(sets).toEqual([{ Label: 'via legacy' }, { Label: 'via ext' }])
    expect(t.errors).toEqual([])
  })

  it('extRrpc: false leaves ext out of the clientId, and the emulator then calls sync services the legacy way', async () => {
    await using t = await lamp({ open: { extRrpc: false } })
    expect(t.snapshot().clientParams.ext).toBeUndefined()
    t.device.onService('Blink', () => ({ done: 0, durationMs: 0.5 }))
    const reply = await t.emu.invokeService(PK, DN, 'Blink', { times: 1 })
    expect(reply).toMatchObject({ code: 200, data: { done: 0, durationMs: 0.5 } })
    expect(t.received.some((topic) => topic.startsWith(`${SYS}/rrpc/request/`))).toBe(true)
    expect(t.received.some((topic) => topic.startsWith('/ext/rrpc/'))).toBe(false)
  })

  it('unknown services are answered 6300, async and sync, without calling any handler', async () => {
    await using t = await lamp({ cloudTsl: false })
    let calls = 0
    t.device.onService('selfDestruct', () => {
      calls++
    })
    expect((await t.emu.invokeService(PK, DN, 'selfDestruct', {})).code).toBe(6300)
    for (const rrpc of ['legacy', 'ext'] as const) {
      expect((await t.emu.invokeService(PK, DN, 'selfDestruct', {}, { sync: true, rrpc })).code).toBe(6300)
    }
    expect(calls).toBe(0)
    // Declared in the TSL, but the device registered no handler.
    expect((await t.emu.invokeService(PK, DN, 'wakeup', {})).code).toBe(6300)
    expect(t.errors.map((e) => e.code)).toEqual([
      'ERR_TSL_UNKNOWN_IDENTIFIER',
      'ERR_TSL_UNKNOWN_IDENTIFIER',
      'ERR_TSL_UNKNOWN_IDENTIFIER',
      'ERR_SERVICE_NOT_FOUND',
    ])
  })

  it('a throwing handler gets a 400 reply and an error event; the device stays connected and keeps answering', async () => {
    await using t = await lamp()
    t.device.onService('wakeup', () => {
      throw new Error('boom')
    })
    t.device.onService('Blink', async () => {
      throw new TypeError('nope')
    })
    expect((await t.emu.invokeService(PK, DN, 'wakeup', { delaySeconds: 1 })).code).toBe(400)
    expect((await t.emu.invokeService(PK, DN, 'Blink', { times: 1 }, { rrpc: 'legacy' })).code).toBe(400)
    expect((await t.emu.invokeService(PK, DN, 'Blink', { times: 1 }, { rrpc: 'ext' })).code).toBe(400)
    expect(t.errors).toHaveLength(3)
    expect(t.errors[0]).toMatchObject({
      code: 'ERR_SERVICE',
      replyCode: 400,
      topic: `${SYS}/thing/service/wakeup`,
    })
    expect(t.device.connected).toBe(true)
    expect(t.snapshot()).toMatchObject({ online: true, connectCount: 1 })
    t.device.onService('wakeup', () => ({ out: 1 }))
    expect(await t.emu.invokeService(PK, DN, 'wakeup', {})).toMatchObject({ code: 200, data: { out: 1 } })
  })

  it('/ext/error: an error event with ERR_CLOUD_ERROR and cloud:error with the notice', async () => {
    await using t = await lamp()
    const notices: CloudErrorNotice[] = []
    t.device.thing.on('cloud:error', (notice) => notices.push(notice))
    await t.emu.sendCloudError(PK, DN, { code: 6204, message: 'device disabled', data: { why: 'test' } })
    await expect.poll(() => t.errors.length).toBe(1)
    const [error] = t.errors
    expect(isLinkkitError(error, 'ERR_CLOUD_ERROR')).toBe(true)
    expect(error).toMatchObject({ replyCode: 6204, topic: `/ext/error/${PK}/${DN}` })
    expect(notices).toEqual([{ code: 6204, message: 'device disabled', data: { why: 'test' } }])
    expect(t.device.connected).toBe(true)
  })

  it("raw down: emu.sendRaw resolves with the bytes the device's onRaw handler returns", async () => {
    await using t = await lamp()
    const raw: RawDownEvent[] = []
    t.device.thing.on('raw', (event) => raw.push(event))
    t.device.thing.onRaw((payload) => Buffer.concat([Buffer.from([0x80]), Buffer.from(payload).reverse()]))
    const reply = await t.emu.sendRaw(PK, DN, Uint8Array.from([1, 2, 3, 0xff]))
    expect([...reply]).toEqual([0x80, 0xff, 3, 2, 1])
    expect(raw).toEqual([{ payload: Buffer.from([1, 2, 3, 0xff]), sync: false }])
    expect(t.uplinks).toContain(`${SYS}/thing/model/down_raw_reply`)
    expect(t.errors).toEqual([])
  })

  it('config push: the device emits config with the offer and the emulator gets 200', async () => {
    await using t = await lamp()
    const offer = t.emu.setConfig(PK, { configId: 'cfg-1', data: Buffer.from('{"led":"warm"}') })
    const offers: ConfigOffer[] = []
    t.device.on('config', (o) => offers.push(o))
    expect((await t.emu.pushConfig(PK, DN)).code).toBe(200)
    expect(offers).toEqual([
      expect.objectContaining({
        configId: 'cfg-1',
        size: offer.configSize,
        url: offer.url,
        digest: offer.sign,
      }),
    ])
  })
})
