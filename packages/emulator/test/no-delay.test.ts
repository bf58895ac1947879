import { describe, expect, it } from 'vitest'
import { Emulator } from '../src/index.js'
import { device, request, SYS } from './alink-helpers.js'
import { DEVICE } from './helpers.js'

describe('the noDelay option', () => {
  it('answers QoS 0 and QoS 1 posts with Nagle on (the default) and off', async () => {
    for (const noDelay of [undefined, false, true]) {
      await using emu = await Emulator.start({
        devices: [DEVICE],
        ...(noDelay === undefined ? {} : { noDelay }),
      })
      const c = await device(emu)
      try {
        const reply = await request(c, `${SYS}/thing/event/property/post`, { id: 'q1', params: { a: 1 } })
        expect(reply).toMatchObject({ id: 'q1', code: 200 })
        const zero = new Promise<string>((resolve) => c.once('message', (_t, p) => resolve(p.toString())))
        await c.publishAsync(
          `${SYS}/thing/event/property/post`,
          JSON.stringify({ id: 'q0', params: { a: 2 } }),
          {
            qos: 0,
          },
        )
        expect(JSON.parse(await zero)).toMatchObject({ id: 'q0', code: 200 })
      } finally {
        await c.endAsync()
      }
    }
  })

  it('refuses a value that is not a boolean with ERR_INVALID_OPTIONS', async () => {
    await expect(Emulator.start({ noDelay: 'yes' as unknown as boolean })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTIONS',
    })
  })
})
