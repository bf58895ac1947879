import type { AlinkInvalidInfo } from '@linkkit/emulator'
import type { DesiredValues } from '@linkkit/thing-model'
import { describe, expect, it } from 'vitest'
import { DN, LAMP_DOCUMENT, LAMP_TSL, lamp, PK, rejection, SYS } from './thing-roundtrip-helpers.js'

const POST = `${SYS}/thing/event/property/post`

describe('uplinks through linkkit.open() and the emulator', () => {
  it('posts properties: the emulator keeps each value with its time and the post resolves 200', async () => {
    await using t = await lamp()
    const before = Date.now()
    const sampled = before - 60_000
    const reply = await t.device.postProperties({
      LightSwitch: 1,
      Temperature: { value: 21.5, time: sampled },
      RGBColor: { Red: 255, Green: 128, Blue: 0 },
      Timers: [{ Hour: 7, Minute: 30, Action: 1, Enabled: 1, Note: 'wake' }],
    })
    expect(reply.code).toBe(200)
    const props = t.snapshot().properties ?? {}
    expect(props.LightSwitch?.value).toBe(1)
    expect(props.LightSwitch?.time).toBeGreaterThanOrEqual(before)
    expect(props.LightSwitch?.time).toBeLessThanOrEqual(Date.now())
    expect(props.Temperature).toEqual({ value: 21.5, time: sampled })
    expect(props.RGBColor?.value).toEqual({ Red: 255, Green: 128, Blue: 0 })
    expect(props.Timers?.value).toEqual([{ Hour: 7, Minute: 30, Action: 1, Enabled: 1, Note: 'wake' }])
    expect(t.device.thing.properties).toMatchObject({ LightSwitch: 1, RGBColor: { Red: 255 } })
    expect(t.errors).toEqual([])
  })

  it('refuses TSL-invalid posts and events locally: nothing reaches the emulator', async () => {
    await using t = await lamp()
    const tooBright = await rejection(t.device.postProperties({ LightSwitch: 1, Brightness: 101 }))
    expect(tooBright.code).toBe('ERR_TSL_VALIDATION')
    expect(tooBright.details).toMatchObject({ identifier: 'Brightness', rule: 'max', platformCode: 6306 })
    const unknown = await rejection(t.device.postProperties({ Humidity: 40 }))
    expect(unknown).toMatchObject({ code: 'ERR_TSL_UNKNOWN_IDENTIFIER', details: { platformCode: 6320 } })
    const badEvent = await rejection(t.device.postEvent('lowpower', { power: '12' }))
    expect(badEvent).toMatchObject({ code: 'ERR_TSL_VALIDATION', details: { rule: 'type' } })
    const noEvent = await rejection(t.device.postEvent('meltdown', {}))
    expect(noEvent.code).toBe('ERR_TSL_UNKNOWN_IDENTIFIER')
    const badBatch = t.device.thing.postBatch({ properties: { Brightness: [{ value: 500 }] } })
    expect((await rejection(badBatch)).code).toBe('ERR_TSL_VALIDATION')
    // A valid post afterwards travels the same connection, so whatever was sent before it has arrived.
    expect((await t.device.postProperties({ LightSwitch: 0 })).code).toBe(200)
    expect(t.uplinks.filter((topic) => topic.includes('/thing/event/'))).toEqual([POST])
    expect(Object.keys(t.snapshot().properties ?? {})).toEqual(['LightSwitch'])
    expect(t.snapshot().events).toEqual([])
  })

  it('without a local TSL the emulator checks: drops invalid properties (200), answers an invalid event 6306', async () => {
    await using t = await lamp({ open: { thingModel: undefined } })
    const refused: AlinkInvalidInfo[] = []
    t.emu.on('alink:invalid', (info) => refused.push(info))
    expect((await t.device.postProperties({ LightSwitch: 1, Brightness: 101 })).code).toBe(200)
    expect(Object.keys(t.snapshot().properties ?? {})).toEqual(['LightSwitch'])
    expect(refused[0]).toMatchObject({ topic: POST, code: 200 })
    const error = await rejection(t.device.postEvent('lowpower', { power: 101 }))
    expect(error).toMatchObject({ code: 'ERR_REPLY', replyCode: 6306 })
    expect(t.snapshot().events).toEqual([])
  })

  it('posts events bare and as { value, time }; the emulator records both in its event history', async () => {
    await using t = await lamp()
    const before = Date.now()
    expect((await t.device.postEvent('lowpower', { power: 12 })).code).toBe(200)
    const at = before - 5000
    const wrapped = { value: { ErrorCode: 1, Detail: 'driver too hot' }, time: at }
    expect((await t.device.postEvent('Error', wrapped)).code).toBe(200)
    const events = t.snapshot().events ?? []
    expect(events).toEqual([
      { identifier: 'lowpower', value: { power: 12 }, time: expect.any(Number) },
      { identifier: 'Error', value: { ErrorCode: 1, Detail: 'driver too hot' }, time: at },
    ])
    expect(events[0]?.time).toBeGreaterThanOrEqual(before)
    expect(t.uplinks).toContain(`${SYS}/thing/event/lowpower/post`)
  })

  it('batch post: the emulator keeps the newest sample of each property and every event sample', async () => {
    await using t = await lamp()
    const t1 = Date.now() - 3000
    const t2 = t1 + 1000
    const reply = await t.device.thing.postBatch({
      properties: {
        Brightness: [
          { value: 20, time: t2 },
          { value: 10, time: t1 },
        ],
        WorkMode: [{ value: 2, time: t1 }],
      },
      events: { lowpower: [{ value: { power: 9 }, time: t2 }] },
    })
    expect(reply.code).toBe(200)
    const { properties, events } = t.snapshot()
    expect(properties?.Brightness).toEqual({ value: 20, time: t2 })
    expect(properties?.WorkMode).toEqual({ value: 2, time: t1 })
    expect(events).toEqual([{ identifier: 'lowpower', value: { power: 9 }, time: t2 }])
  })

  it('history post: stored for this device; a foreign identity is refused 460 by the emulator', async () => {
    await using t = await lamp()
    const at = Date.now() - 3_600_000
    const reply = await t.device.thing.postHistory([
      {
        properties: [
          { Temperature: { value: 19.5, time: at } },
          { PowerConsumption: { value: 12.25, time: at } },
        ],
        events: [{ Error: { value: { ErrorCode: 2 }, time: at + 1 } }],
      },
    ])
    expect(reply.code).toBe(200)
    const { properties, events } = t.snapshot()
    expect(properties?.Temperature).toEqual({ value: 19.5, time: at })
    expect(properties?.PowerConsumption).toEqual({ value: 12.25, time: at })
    expect(events).toEqual([{ identifier: 'Error', value: { ErrorCode: 2 }, time: at + 1 }])
    const foreign = t.device.thing.postHistory([
      {
        identity: { productKey: PK, deviceName: 'someone-else' },
        properties: [{ Brightness: { value: 1 } }],
      },
    ])
    expect(await rejection(foreign)).toMatchObject({ code: 'ERR_REPLY', replyCode: 460 })
  })

  it('ack: 0 resolves once sent; the emulator stores the value and sends no reply', async () => {
    await using t = await lamp()
    const quiet = await t.device.postProperties({ Brightness: 33 }, { ack: 0 })
    expect(quiet.code).toBe(200)
    await t.device.postEvent('lowpower', { power: 50 }, { ack: 0 })
    await expect.poll(() => t.snapshot().properties?.Brightness?.value).toBe(33)
    await expect.poll(() => t.snapshot().events?.length).toBe(1)
    expect((await t.device.postProperties({ Brightness: 34 })).code).toBe(200)
    expect(t.received.filter((topic) => topic.endsWith('/post_reply'))).toEqual([`${POST}_reply`])
    expect(t.snapshot().properties?.Brightness?.value).toBe(34)
  })

  it('desired properties: get what the emulator holds, delete with and without version guards', async () => {
    await using t = await lamp()
    await t.emu.setDesired(PK, DN, { Brightness: 30, Label: 'desk' })
    const emitted: DesiredValues[] = []
    t.device.thing.on('desired', (values) => emitted.push(values))
    const got = await t.device.thing.getDesired(['Brightness', 'Label', 'WorkMode'])
    expect(got).toEqual({ Brightness: { value: 30, version: 1 }, Label: { value: 'desk', version: 1 } })
    expect(emitted).toEqual([got])
    await t.emu.setDesired(PK, DN, { Brightness: 40 })
    await t.device.thing.deleteDesired({ Brightness: { version: 1 }, Label: {} })
    expect(t.snapshot().desired).toEqual({ Brightness: { value: 40, version: 2, time: expect.any(Number) } })
    await t.device.thing.deleteDesired({ Brightness: { version: 2 } })
    expect(t.snapshot().desired).toEqual({})
    expect(await t.device.thing.getDesired(['Brightness'])).toEqual({})
  })

  it('tags: update adds without clearing others, delete removes by key', async () => {
    await using t = await lamp()
    await t.device.thing.updateTags([
      { attrKey: 'room', attrValue: 'kitchen' },
      { attrKey: 'floor', attrValue: '2' },
    ])
    await t.device.thing.updateTags([{ attrKey: 'room', attrValue: 'hall' }])
    expect(t.snapshot().tags).toEqual({ room: 'hall', floor: '2' })
    await t.device.thing.deleteTags(['room'])
    expect(t.snapshot().tags).toEqual({ floor: '2' })
  })

  it('ntp(): the emulator answers and the computed server time is close to Date.now()', async () => {
    await using t = await lamp()
    const before = Date.now()
    const result = await t.device.ntp()
    const after = Date.now()
    expect(result.serverTimeMs).toBeGreaterThanOrEqual(before - 50)
    expect(result.serverTimeMs).toBeLessThanOrEqual(after + 50)
    expect(Math.abs(result.offsetMs)).toBeLessThan(50)
    expect(result.roundTripMs).toBeGreaterThanOrEqual(0)
    expect(t.uplinks).toContain(`/ext/ntp/${PK}/${DN}/request`)
    expect(t.received).toContain(`/ext/ntp/${PK}/${DN}/response`)
  })

  it("raw up: postRaw resolves with the emulator's reply bytes; the emulator keeps the uplink", async () => {
    await using t = await lamp()
    expect([...(await t.device.thing.postRaw(Uint8Array.from([0x01, 0x00, 0xff])))]).toEqual([1, 0, 255])
    t.emu.onRawUp(PK, (payload) => Buffer.concat([Buffer.from([0xaa]), Buffer.from(payload).reverse()]))
    expect([...(await t.device.thing.postRaw(Uint8Array.from([1, 2, 3])))]).toEqual([0xaa, 3, 2, 1])
    expect(t.snapshot().rawUp?.map((up) => [...up.payload])).toEqual([
      [1, 0, 255],
      [1, 2, 3],
    ])
  })

  it.each([
    ['a path', LAMP_TSL],
    ['a file URL', new URL('../../../examples/lamp.tsl.json', import.meta.url)],
    ['an object', LAMP_DOCUMENT],
  ])('linkkit.open({ thingModel: %s }) validates and round-trips alike', async (_, thingModel) => {
    await using t = await lamp({ open: { thingModel } })
    expect(t.device.thingModel?.service('Blink')?.callType).toBe('sync')
    expect((await rejection(t.device.postProperties({ WorkMode: 9 }))).code).toBe('ERR_TSL_VALIDATION')
    expect((await t.device.postProperties({ WorkMode: 3 })).code).toBe(200)
    expect(t.snapshot().properties?.WorkMode?.value).toBe(3)
  })
})
