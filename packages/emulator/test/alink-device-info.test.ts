import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { parseThingModel } from '@linkkit/thing-model'
import { describe, expect, it } from 'vitest'
import { Emulator } from '../src/index.js'
import {
  device,
  LAMP_TSL,
  lampEmulator,
  nextOn,
  publishExpectingSilence,
  request,
  SYS,
} from './alink-helpers.js'
import { DEVICE, DN, PK } from './helpers.js'

describe('desired properties', () => {
  it('get answers the stored values with versions, omitting the unknown ones', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    await emu.setDesired(PK, DN, { Brightness: 10 })
    expect(await emu.setDesired(PK, DN, { Brightness: 20, Label: 'x' })).toMatchObject({
      Brightness: { value: 20, version: 2 },
      Label: { value: 'x', version: 1 },
    })
    const reply = await request(c, `${SYS}/thing/property/desired/get`, {
      id: '1',
      params: ['Brightness', 'Label', 'WorkMode'],
    })
    expect(reply).toMatchObject({
      code: 200,
      method: 'thing.property.desired.get',
      data: { Brightness: { value: 20, version: 2 }, Label: { value: 'x', version: 1 } },
    })
    expect(Object.keys(reply.data as object)).not.toContain('WorkMode')
    await expect(emu.setDesired(PK, DN, { Brightness: 1000 })).rejects.toMatchObject({
      code: 'ERR_TSL_VALIDATION',
    })
  })

  it('delete removes unguarded entries and guarded ones only at their current version', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    await emu.setDesired(PK, DN, { Brightness: 10, Label: 'a', WorkMode: 1 })
    const reply = await request(c, `${SYS}/thing/property/desired/delete`, {
      id: '2',
      params: { Brightness: {}, Label: { version: 1 }, WorkMode: { version: 9 } },
    })
    expect(reply).toMatchObject({ code: 200, data: {} })
    expect(Object.keys(emu.device(PK, DN)?.desired ?? {})).toEqual(['WorkMode'])
    const bad = await request(c, `${SYS}/thing/property/desired/delete`, { id: '3', params: ['WorkMode'] })
    expect(bad).toMatchObject({ code: 6301 })
  })
})

describe('tags', () => {
  it('update merges tags, delete removes them, malformed entries answer 460', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const UPDATE = `${SYS}/thing/deviceinfo/update`
    await request(c, UPDATE, { id: '1', params: [{ attrKey: 'room', attrValue: 'kitchen' }] })
    const second = await request(c, UPDATE, {
      id: '2',
      params: [
        { attrKey: 'floor', attrValue: '2' },
        { attrKey: 'SYS_SDK_LANGUAGE', attrValue: 'C', domain: 'SYSTEM' },
      ],
    })
    expect(second).toMatchObject({ code: 200, method: 'thing.deviceinfo.update' })
    expect(emu.device(PK, DN)?.tags).toEqual({ room: 'kitchen', floor: '2', SYS_SDK_LANGUAGE: 'C' })
    await request(c, `${SYS}/thing/deviceinfo/delete`, { id: '3', params: [{ attrKey: 'room' }] })
    expect(emu.device(PK, DN)?.tags).toEqual({ floor: '2', SYS_SDK_LANGUAGE: 'C' })
    expect(await request(c, UPDATE, { id: '4', params: [{ attrKey: 'k' }] })).toMatchObject({ code: 460 })
    expect(await request(c, UPDATE, { id: '5', params: { attrKey: 'k' } })).toMatchObject({ code: 6301 })
    expect(emu.device(PK, DN)?.tags).toEqual({ floor: '2', SYS_SDK_LANGUAGE: 'C' })
  })
})

describe('NTP', () => {
  it('echoes deviceSendTime and brackets the server times between request and response', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const response = nextOn(c, `/ext/ntp/${PK}/${DN}/response`)
    const sentAt = Date.now()
    await c.publishAsync(`/ext/ntp/${PK}/${DN}/request`, JSON.stringify({ deviceSendTime: '1234' }), {
      qos: 1,
    })
    const body = JSON.parse((await response).toString('utf8')) as Record<string, string>
    const receivedAt = Date.now()
    expect(body.deviceSendTime).toBe('1234')
    expect(Object.values(body).every((v) => typeof v === 'string')).toBe(true)
    const recv = Number(body.serverRecvTime)
    const send = Number(body.serverSendTime)
    expect(recv).toBeGreaterThanOrEqual(sentAt)
    expect(send).toBeGreaterThanOrEqual(recv)
    expect(send).toBeLessThanOrEqual(receivedAt)
    // 4.x: (serverRecvTime + serverSendTime + deviceRecvTime − deviceSendTime) / 2 lands near now.
    const estimate = (recv + send + receivedAt - sentAt) / 2
    expect(Math.abs(estimate - receivedAt)).toBeLessThan(1000)
  })

  it('ignores a request without deviceSendTime', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    expect(await publishExpectingSilence(c, `/ext/ntp/${PK}/${DN}/request`, '{}')).toEqual([])
  })
})

describe('remote configuration', () => {
  const data = new Uint8Array(Buffer.from('{"interval":30,"mode":"eco"}\n'.repeat(40)))

  it('config/get answers the offer and the file downloads with exact length and Range', async () => {
    await using emu = await lampEmulator()
    const offer = emu.setConfig(PK, { configId: 'cfg-1', data })
    const c = await device(emu)
    const reply = await request(c, `${SYS}/thing/config/get`, {
      id: '1',
      params: { configScope: 'product', getType: 'file', attributeKeys: '' },
    })
    expect(reply).toMatchObject({ code: 200, data: offer })
    expect(offer).toMatchObject({
      configId: 'cfg-1',
      configSize: data.length,
      signMethod: 'Sha256',
      getType: 'file',
      sign: createHash('sha256').update(data).digest('hex'),
    })
    expect(offer.url.startsWith(`${emu.httpUrl}/config/`)).toBe(true)
    const whole = await fetch(offer.url)
    expect(whole.headers.get('content-length')).toBe(String(data.length))
    expect(Buffer.from(await whole.arrayBuffer()).equals(Buffer.from(data))).toBe(true)
    const part = await fetch(offer.url, { headers: { Range: 'bytes=10-19' } })
    expect(part.status).toBe(206)
    expect(part.headers.get('content-range')).toBe(`bytes 10-19/${data.length}`)
    expect(Buffer.from(await part.arrayBuffer()).equals(Buffer.from(data.subarray(10, 20)))).toBe(true)
  })

  it('a replaced configuration stops serving the old file', async () => {
    await using emu = await lampEmulator()
    const first = emu.setConfig(PK, { configId: 'a', data })
    const second = emu.setConfig(PK, { configId: 'b', data: new Uint8Array([1, 2, 3]) })
    expect((await fetch(first.url)).status).toBe(404)
    expect((await fetch(second.url)).status).toBe(200)
  })

  it('config/get without a configuration answers 200 with empty data', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    expect(await request(c, `${SYS}/thing/config/get`, { id: '1', params: {} })).toMatchObject({
      code: 200,
      data: {},
    })
  })

  it('pushConfig sends thing.config.push with the offer and resolves with the push_reply', async () => {
    await using emu = await lampEmulator()
    await expect(emu.pushConfig(PK, DN)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    const offer = emu.setConfig(PK, { configId: 'cfg-2', data })
    const c = await device(emu)
    const PUSH = `${SYS}/thing/config/push`
    c.on('message', (topic, payload) => {
      if (topic !== PUSH) return
      const body = JSON.parse(payload.toString('utf8')) as { id: string; params: unknown; method: string }
      expect(body).toMatchObject({ version: '1.0', method: 'thing.config.push', params: offer })
      c.publish(`${PUSH}_reply`, JSON.stringify({ id: body.id, code: 200, data: {} }))
    })
    expect(await emu.pushConfig(PK, DN)).toMatchObject({ code: 200, data: {} })
  })
})

describe('TSL download and thing models', () => {
  it('dsltemplate/get answers the product TSL with its built-ins, which parses back', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const reply = await request(c, `${SYS}/thing/dsltemplate/get`, { id: '1', params: {} })
    expect(reply).toMatchObject({ code: 200, method: 'thing.dsltemplate.get' })
    const tsl = reply.data as { profile: unknown; services: Array<{ identifier: string; callType: string }> }
    expect(tsl.profile).toEqual({ productKey: PK })
    expect(tsl.services.map((s) => s.identifier)).toEqual(['set', 'get', 'wakeup', 'Blink'])
    const model = parseThingModel(tsl)
    expect(model.serviceCallType('Blink')).toBe('sync')
    expect(model.hasProperty('RGBColor')).toBe(true)
  })

  it('a product without a TSL answers a TSL holding only the built-ins', async () => {
    await using emu = await lampEmulator({ tsl: false })
    const c = await device(emu)
    const reply = await request(c, `${SYS}/thing/dsltemplate/get`, { id: '1', params: {} })
    expect(reply.data).toMatchObject({ properties: [], profile: { productKey: PK } })
  })

  it('setThingModel takes a compiled model, refuses a malformed document and answers 6313 for a broken path', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const c = await device(emu)
    await emu.setThingModel(PK, parseThingModel({ properties: [] }))
    const POST = `${SYS}/thing/event/property/post`
    expect(await request(c, POST, { id: '1', params: { Brightness: 1 } })).toMatchObject({ code: 200 })
    expect(emu.device(PK, DN)?.properties).toEqual({})
    await expect(emu.setThingModel(PK, { properties: 'nope' } as never)).rejects.toMatchObject({
      code: 'ERR_TSL_INVALID',
    })
    await expect(emu.setThingModel(PK, join(LAMP_TSL, 'missing.json'))).rejects.toMatchObject({
      code: 'ERR_TSL_INVALID',
    })
    expect(await request(c, POST, { id: '2', params: { Brightness: 1 } })).toMatchObject({ code: 6313 })
    await emu.setThingModel(PK, LAMP_TSL)
    expect(await request(c, POST, { id: '3', params: { Brightness: 1 } })).toMatchObject({ code: 200 })
  })

  it('Emulator.start rejects a product whose TSL file cannot be loaded', async () => {
    await expect(
      Emulator.start({ products: [{ productKey: PK, thingModel: '/nonexistent/lamp.json' }] }),
    ).rejects.toMatchObject({ code: 'ERR_TSL_INVALID' })
  })
})

describe('raw uplinks', () => {
  const UP = `${SYS}/thing/model/up_raw`

  it('keeps the bytes and echoes them on up_raw_reply by default', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const reply = nextOn(c, `${UP}_reply`)
    await c.publishAsync(UP, Buffer.from([0x01, 0x02, 0xfe]), { qos: 1 })
    expect([...(await reply)]).toEqual([0x01, 0x02, 0xfe])
    const [raw] = emu.device(PK, DN)?.rawUp ?? []
    expect([...(raw?.payload ?? [])]).toEqual([0x01, 0x02, 0xfe])
  })

  it('answers with what the product handler returns, or nothing', async () => {
    await using emu = await lampEmulator()
    emu.onRawUp(PK, (payload) => (payload[0] === 0 ? undefined : new Uint8Array([0x80, payload.length])))
    const c = await device(emu)
    const reply = nextOn(c, `${UP}_reply`)
    await c.publishAsync(UP, Buffer.from([9, 9, 9, 9]), { qos: 1 })
    expect([...(await reply)]).toEqual([0x80, 4])
    expect(await publishExpectingSilence(c, UP, '\u0000')).toEqual([])
    expect(emu.device(PK, DN)?.rawUp).toHaveLength(2)
  })
})
