import { loadThingModel } from '@linkkit/thing-model'
import { describe, expect, it } from 'vitest'
import { type AlinkInvalidInfo, Emulator } from '../src/index.js'
import { device, LAMP_TSL, request, SYS } from './alink-helpers.js'
import { DEVICE, PK } from './helpers.js'

/**
 * A `ThingModel` compiled by the SDK (a devDependency of these tests only) is read by the emulator
 * as the TSL document it came from: it answers exactly as with the document's file.
 */
describe('a ThingModel compiled by @linkkit/thing-model as a product thing model', () => {
  async function answers(thingModel: object | string) {
    await using emu = await Emulator.start({ devices: [DEVICE], products: [{ productKey: PK, thingModel }] })
    const invalid: AlinkInvalidInfo[] = []
    emu.on('alink:invalid', (info) => invalid.push(info))
    const c = await device(emu)
    const tsl = await request(c, `${SYS}/thing/dsltemplate/get`, { id: '1', params: {} })
    const params = { Brightness: 101, Label: 7, RGBColor: { Red: 1 }, Timers: [{ Hour: 25 }], Nope: 1 }
    await request(c, `${SYS}/thing/event/property/post`, { id: '2', params })
    const event = await request(c, `${SYS}/thing/event/Error/post`, { id: '3', params: { ErrorCode: 'x' } })
    const blink = await emu
      .invokeService(PK, DEVICE.deviceName, 'Blink', { times: -1 })
      .catch((e: unknown) => e)
    return {
      tsl: tsl.data,
      dropped: invalid[0]?.errors.map((e) => e.details),
      event: event.code,
      blink: (blink as { details?: unknown }).details,
    }
  }

  it('answers as the same document given by its path', async () => {
    const fromPath = await answers(LAMP_TSL)
    const fromModel = await answers(await loadThingModel(LAMP_TSL))
    expect(fromModel).toEqual(fromPath)
    expect(fromPath.dropped?.map((d) => (d as { platformCode: number }).platformCode)).toEqual([
      6306, 6310, 6312, 6306, 6320,
    ])
    expect(fromPath.event).toBe(6309)
  })
})
