import { describe, expect, it } from 'vitest'
import type { AlinkInvalidInfo } from '../src/index.js'
import { device, lampEmulator, publishExpectingSilence, request, SYS } from './alink-helpers.js'
import { DN, PK } from './helpers.js'

const POST = `${SYS}/thing/event/property/post`

describe('property post', () => {
  it('answers 200 in the platform envelope and keeps the values with their time', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const before = Date.now()
    const reply = await request(c, POST, {
      id: '101',
      version: '1.0',
      params: { LightSwitch: 1, Brightness: { value: 80, time: 1_524_448_722_000 } },
      method: 'thing.event.property.post',
    })
    expect(reply).toEqual({
      id: '101',
      code: 200,
      data: {},
      message: 'success',
      method: 'thing.event.property.post',
      version: '1.0',
    })
    const props = emu.device(PK, DN)?.properties
    expect(props?.Brightness).toEqual({ value: 80, time: 1_524_448_722_000 })
    expect(props?.LightSwitch?.value).toBe(1)
    expect(props?.LightSwitch?.time).toBeGreaterThanOrEqual(before)
  })

  it('accepts a numeric id and no method (4.x), answering with a string id and the method of the topic', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const reply = await request(c, POST, {
      id: 7,
      version: '1.0',
      params: { Brightness: 5 },
      sys: { ack: 1 },
    })
    expect(reply).toMatchObject({ id: '7', code: 200, method: 'thing.event.property.post' })
    expect(emu.device(PK, DN)?.properties?.Brightness?.value).toBe(5)
  })

  it('drops properties the TSL refuses, stores the rest and still answers 200', async () => {
    await using emu = await lampEmulator()
    const invalid: AlinkInvalidInfo[] = []
    emu.on('alink:invalid', (info) => invalid.push(info))
    const c = await device(emu)
    const reply = await request(c, POST, {
      id: '1',
      params: { LightSwitch: 0, Brightness: 150, Nope: 1, Label: 'desk' },
    })
    expect(reply).toMatchObject({ id: '1', code: 200 })
    expect(Object.keys(emu.device(PK, DN)?.properties ?? {}).sort()).toEqual(['Label', 'LightSwitch'])
    expect(invalid).toHaveLength(1)
    expect(invalid[0]?.errors.map((e) => e.details?.platformCode)).toEqual([6306, 6320])
  })

  it('stores every property of a product without a TSL', async () => {
    await using emu = await lampEmulator({ tsl: false })
    const c = await device(emu)
    expect(await request(c, POST, { id: '1', params: { Anything: 'goes', Brightness: 150 } })).toMatchObject({
      code: 200,
    })
    expect(emu.device(PK, DN)?.properties?.Brightness?.value).toBe(150)
  })

  it('refuses more than 200 properties with 6106 and stores none of them', async () => {
    await using emu = await lampEmulator({ tsl: false })
    const c = await device(emu)
    const params = Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`p${i}`, i]))
    expect(await request(c, POST, { id: '9', params })).toMatchObject({ id: '9', code: 6106 })
    expect(emu.device(PK, DN)?.properties).toEqual({})
    const exactly200 = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`p${i}`, i]))
    expect(await request(c, POST, { id: '10', params: exactly200 })).toMatchObject({ code: 200 })
  })

  it('sends no reply for sys.ack 0 but keeps the values', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const body = JSON.stringify({ id: '5', version: '1.0', sys: { ack: 0 }, params: { Brightness: 33 } })
    expect(await publishExpectingSilence(c, POST, body)).toEqual([])
    expect(emu.device(PK, DN)?.properties?.Brightness?.value).toBe(33)
  })
})

describe('malformed uplinks', () => {
  it('answers bad JSON with 6207 when the id is recoverable', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    expect(await request(c, POST, '{"id":"77","params":{"Brightness":1')).toMatchObject({
      id: '77',
      code: 6207,
    })
    expect(await request(c, POST, '"id":78,"code":"400","data":{}')).toMatchObject({ id: '78', code: 6207 })
  })

  it('answers non-object params 6301 and missing params 460', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    expect(await request(c, POST, { id: '1', params: [1, 2] })).toMatchObject({ code: 6301 })
    expect(await request(c, POST, { id: '2', params: 'x' })).toMatchObject({ code: 6301 })
    expect(await request(c, POST, { id: '3', version: '1.0' })).toMatchObject({ id: '3', code: 460 })
    expect(await request(c, POST, { id: '4', params: {} })).toMatchObject({ code: 460 })
  })

  it('answers huge and deeply nested payloads 460 and survives payloads without an id', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const huge = `{"id":"50","params":{"Label":"${'x'.repeat(300 * 1024)}"}}`
    expect(await request(c, POST, huge)).toMatchObject({ id: '50', code: 460 })
    const deep = `{"id":"51","params":{"Label":${'['.repeat(5000)}${']'.repeat(5000)}}}`
    expect(await request(c, POST, deep)).toMatchObject({ id: '51', code: 460 })
    expect(await publishExpectingSilence(c, POST, '\u0000\u00ff not json')).toEqual([])
    expect(await publishExpectingSilence(c, POST, JSON.stringify({ params: {} }))).toEqual([])
    expect(await publishExpectingSilence(c, POST, 'null')).toEqual([])
    expect(await request(c, POST, { id: '52', params: { Brightness: 2 } })).toMatchObject({ code: 200 })
  })
})

describe('event post', () => {
  const LOWPOWER = `${SYS}/thing/event/lowpower/post`

  it('accepts bare and wrapped params and keeps the history in order', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const bare = await request(c, LOWPOWER, { id: '1', params: { power: 10 } })
    expect(bare).toMatchObject({ id: '1', code: 200, data: {}, method: 'thing.event.lowpower.post' })
    const wrapped = { id: '2', params: { value: { power: 5 }, time: 1_700_000_000_000 } }
    expect(await request(c, LOWPOWER, wrapped)).toMatchObject({ code: 200 })
    const events = emu.device(PK, DN)?.events ?? []
    expect(events.map((e) => [e.identifier, e.value])).toEqual([
      ['lowpower', { power: 10 }],
      ['lowpower', { power: 5 }],
    ])
    expect(events[1]?.time).toBe(1_700_000_000_000)
  })

  it('answers the TSL code when the event or a param is invalid, storing nothing', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    expect(await request(c, LOWPOWER, { id: '1', params: { power: 101 } })).toMatchObject({ code: 6306 })
    expect(await request(c, LOWPOWER, { id: '2', params: { watts: 1 } })).toMatchObject({ code: 6304 })
    const unknown = await request(c, `${SYS}/thing/event/meltdown/post`, { id: '3', params: {} })
    expect(unknown).toMatchObject({ code: 6300, method: 'thing.event.meltdown.post' })
    expect(await request(c, LOWPOWER, { id: '4', params: 3 })).toMatchObject({ code: 6301 })
    expect(emu.device(PK, DN)?.events).toEqual([])
  })

  it('keeps only the last 1000 events', async () => {
    await using emu = await lampEmulator({ tsl: false })
    const c = await device(emu)
    for (let i = 0; i < 1004; i++) {
      c.publish(
        `${SYS}/thing/event/tick/post`,
        JSON.stringify({ id: String(i), sys: { ack: 0 }, params: { i } }),
      )
    }
    await request(c, `${SYS}/thing/event/tick/post`, { id: 'last', params: { i: 1004 } })
    const events = emu.device(PK, DN)?.events ?? []
    expect(events).toHaveLength(1000)
    expect(events[0]?.value).toEqual({ i: 5 })
    expect(events.at(-1)?.value).toEqual({ i: 1004 })
  })
})

describe('batch and history posts', () => {
  it('batch: keeps the newest valid sample per property and the valid events', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const reply = await request(c, `${SYS}/thing/event/property/batch/post`, {
      id: '1',
      params: {
        properties: {
          Brightness: [
            { value: 10, time: 2000 },
            { value: 20, time: 3000 },
            { value: 999, time: 4000 },
          ],
        },
        events: { lowpower: [{ value: { power: 1 }, time: 1500 }] },
      },
    })
    expect(reply).toMatchObject({ code: 200, method: 'thing.event.property.batch.post' })
    expect(emu.device(PK, DN)?.properties?.Brightness).toEqual({ value: 20, time: 3000 })
    expect(emu.device(PK, DN)?.events).toEqual([{ identifier: 'lowpower', value: { power: 1 }, time: 1500 }])
  })

  it('history: stores own samples, refuses another device with 460 and a non-array with 6301', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const HISTORY = `${SYS}/thing/event/property/history/post`
    const own = {
      identity: { productKey: PK, deviceName: DN },
      properties: [{ Brightness: { value: 40, time: 5000 }, LightSwitch: { value: 1, time: 5000 } }],
      events: [{ lowpower: { value: { power: 7 }, time: 4000 } }],
    }
    expect(await request(c, HISTORY, { id: '1', params: [own] })).toMatchObject({ code: 200 })
    expect(emu.device(PK, DN)?.properties?.Brightness).toEqual({ value: 40, time: 5000 })
    expect(emu.device(PK, DN)?.events?.[0]).toEqual({
      identifier: 'lowpower',
      value: { power: 7 },
      time: 4000,
    })
    const foreign = { ...own, identity: { productKey: PK, deviceName: 'someoneElse' } }
    expect(await request(c, HISTORY, { id: '2', params: [foreign] })).toMatchObject({ code: 460 })
    expect(await request(c, HISTORY, { id: '3', params: own })).toMatchObject({ code: 6301 })
  })
})
