import { describe, expect, it } from 'vitest'
import { device, lampEmulator, nextOn, SYS } from './alink-helpers.js'
import { DN, PK } from './helpers.js'

const PUSH = `${SYS}/thing/config/push`

describe('pushConfig to a device that answers only failures (C SDK 3.x)', () => {
  it('with awaitReply: false resolves with the push id once published, without any reply', async () => {
    await using emu = await lampEmulator({ requestTimeoutMs: 200 })
    const offer = emu.setConfig(PK, { configId: 'cfg-3x', data: new Uint8Array([1, 2, 3]) })
    const c = await device(emu)
    // 3.x says nothing after a push it accepted: it only fetches the file (ota_mqtt.c).
    const delivered = nextOn(c, PUSH)
    const sent = await emu.pushConfig(PK, DN, { awaitReply: false })
    const body = JSON.parse((await delivered).toString('utf8')) as Record<string, unknown>
    expect(body).toEqual({ id: sent.id, version: '1.0', params: offer, method: 'thing.config.push' })
    // Waiting for a reply still reports the silence, as before.
    await expect(emu.pushConfig(PK, DN)).rejects.toMatchObject({ code: 'ERR_REQUEST_TIMEOUT' })
  })

  it('still refuses an offline device or a product without configuration', async () => {
    await using emu = await lampEmulator()
    await expect(emu.pushConfig(PK, DN, { awaitReply: false })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
    emu.setConfig(PK, { configId: 'cfg', data: new Uint8Array([1]) })
    await expect(emu.pushConfig(PK, DN, { awaitReply: false })).rejects.toMatchObject({
      code: 'ERR_NOT_CONNECTED',
    })
  })
})
