import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { type AlinkInvalidInfo, Emulator } from '../src/index.js'
import { device, LAMP_TSL, lampEmulator, request, SYS } from './alink-helpers.js'
import { DEVICE, DN, PK } from './helpers.js'

/**
 * Where the emulator's own TSL code, written from docs/protocol.md, answers differently from the
 * SDK's checker it used before: in each case the protocol says so (§2.3, §2.5).
 */

const POST = `${SYS}/thing/event/property/post`

function collectInvalid(emu: Emulator): AlinkInvalidInfo[] {
  const invalid: AlinkInvalidInfo[] = []
  emu.on('alink:invalid', (info) => invalid.push(info))
  return invalid
}

describe('TSL checks as the protocol states them', () => {
  it('counts a text length in UTF-8 bytes: 12 CJK characters are 36 bytes, over a length of 32', async () => {
    await using emu = await lampEmulator()
    const invalid = collectInvalid(emu)
    const c = await device(emu)
    const label = '客厅台灯书房台灯卧室台灯'
    expect(await request(c, POST, { id: '1', params: { Label: label, Brightness: 5 } })).toMatchObject({
      code: 200,
    })
    expect(emu.device(PK, DN)?.properties?.Label).toBeUndefined()
    expect(invalid[0]?.errors.map((e) => e.details)).toMatchObject([
      { identifier: 'Label', rule: 'length', expected: 32, actual: 36, platformCode: 6310 },
    ])
    // Eight of them are 24 bytes: kept.
    await request(c, POST, { id: '2', params: { Label: label.slice(0, 8) } })
    expect(emu.device(PK, DN)?.properties?.Label?.value).toBe(label.slice(0, 8))
  })

  it('drops a sample whose time lies more than 24 h ahead, keeps one within', async () => {
    await using emu = await lampEmulator()
    const invalid = collectInvalid(emu)
    const c = await device(emu)
    const soon = Date.now() + 23 * 3_600_000
    const params = {
      Brightness: { value: 7, time: soon },
      LightSwitch: { value: 1, time: soon + 2 * 3_600_000 },
    }
    expect(await request(c, POST, { id: '1', params })).toMatchObject({ code: 200 })
    expect(emu.device(PK, DN)?.properties).toEqual({ Brightness: { value: 7, time: soon } })
    expect(invalid[0]?.errors.map((e) => [e.details?.rule, e.details?.platformCode])).toEqual([
      ['time', 6305],
    ])
  })

  it('answers 6300 on thing/event/post/post: `post` is the property post, not an event', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const reply = await request(c, `${SYS}/thing/event/post/post`, { id: '1', params: { Brightness: 5 } })
    expect(reply).toMatchObject({ code: 6300, method: 'thing.event.post.post' })
    expect(emu.device(PK, DN)?.events).toEqual([])
  })

  it('thing.dsltemplate.get keeps what the document says of its events and services', async () => {
    const tsl = {
      properties: [
        { identifier: 'Power', accessMode: 'rw', desc: 'mains', dataType: { type: 'bool', specs: {} } },
      ],
      events: [{ identifier: 'fault', type: 'error', required: true, desc: 'a fault', outputData: [] }],
      services: [{ identifier: 'reset', callType: 'sync', required: true, inputData: [], outputData: [] }],
    }
    await using emu = await Emulator.start({
      devices: [DEVICE],
      products: [{ productKey: PK, thingModel: tsl }],
    })
    const c = await device(emu)
    const { data } = await request(c, `${SYS}/thing/dsltemplate/get`, { id: '1', params: {} })
    expect(data).toMatchObject({
      properties: [{ identifier: 'Power', desc: 'mains', required: false }],
      events: [
        { identifier: 'post', name: 'post', required: true, method: 'thing.event.property.post' },
        {
          identifier: 'fault',
          type: 'error',
          required: true,
          desc: 'a fault',
          method: 'thing.event.fault.post',
        },
      ],
      services: [
        { identifier: 'set', name: 'set', required: true },
        { identifier: 'get', name: 'get', required: true, inputData: ['Power'] },
        { identifier: 'reset', callType: 'sync', required: true, method: 'thing.service.reset' },
      ],
    })
  })

  it('loads a thing model given as a file: URL', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    await emu.setThingModel(PK, pathToFileURL(LAMP_TSL))
    const c = await device(emu)
    await request(c, POST, { id: '1', params: { Brightness: 101, WorkMode: 2 } })
    expect(emu.device(PK, DN)?.properties).toEqual({ WorkMode: expect.objectContaining({ value: 2 }) })
  })
})
