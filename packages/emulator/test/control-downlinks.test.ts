import { describe, expect, it } from 'vitest'
import { device, lampEmulator, nextOn, SYS } from './alink-helpers.js'
import { control, errorOf } from './control-helpers.js'
import { closed, DN, PK } from './helpers.js'

/** Answers the next request on `topic` with `reply` and resolves with the request's params. */
async function answerNext(
  c: Awaited<ReturnType<typeof device>>,
  topic: string,
  reply: (id: string) => unknown,
): Promise<unknown> {
  const payload = JSON.parse((await nextOn(c, topic)).toString('utf8')) as { id: string; params: unknown }
  await c.publishAsync(`${topic}_reply`, JSON.stringify(reply(payload.id)), { qos: 1 })
  return payload.params
}

describe('control API: downlinks', () => {
  it('sets properties on the device and answers with its reply', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const topic = `${SYS}/thing/service/property/set`
    const seen = answerNext(c, topic, (id) => ({ id, code: 200, data: {} }))
    const answer = await control(emu, 'POST', `devices/${PK}/${DN}/properties`, {
      properties: { LightSwitch: 1, Brightness: 40 },
    })
    expect(await seen).toEqual({ LightSwitch: 1, Brightness: 40 })
    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({ code: 200, data: {} })
  })

  it('refuses properties the thing model rejects (400) and an offline device (409)', async () => {
    await using emu = await lampEmulator()
    const offline = await control(emu, 'POST', `devices/${PK}/${DN}/properties`, {
      properties: { LightSwitch: 1 },
    })
    expect([offline.status, errorOf(offline).code]).toEqual([409, 'ERR_NOT_CONNECTED'])
    await device(emu)
    const invalid = await control(emu, 'POST', `devices/${PK}/${DN}/properties`, {
      properties: { Brightness: 500 },
    })
    expect([invalid.status, errorOf(invalid).code]).toEqual([400, 'ERR_TSL_VALIDATION'])
    const missing = await control(emu, 'POST', `devices/${PK}/${DN}/properties`, { Brightness: 5 })
    expect(errorOf(missing).message).toBe('unknown field "Brightness"')
  })

  it('invokes a service and returns the device reply; a silent device times out with 504', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const topic = `${SYS}/thing/service/wakeup`
    const seen = answerNext(c, topic, (id) => ({ id, code: 200, data: { out: 3 } }))
    const answer = await control(emu, 'POST', `devices/${PK}/${DN}/services/wakeup`, {
      params: { delaySeconds: 2 },
    })
    expect(await seen).toEqual({ delaySeconds: 2 })
    expect(answer.body).toMatchObject({ code: 200, data: { out: 3 } })
    const silent = await control(emu, 'POST', `devices/${PK}/${DN}/services/wakeup`, { timeoutMs: 100 })
    expect([silent.status, errorOf(silent).code]).toEqual([504, 'ERR_REQUEST_TIMEOUT'])
  })

  it('kicks an online device off the broker', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const gone = closed(c)
    const kicked = await control(emu, 'POST', 'kick', { productKey: PK, deviceName: DN })
    expect(kicked.body).toEqual({ kicked: true })
    await gone
    expect((await control(emu, 'POST', 'kick', { productKey: PK, deviceName: DN })).body).toEqual({
      kicked: false,
    })
    const unknown = await control(emu, 'POST', 'kick', { productKey: PK, deviceName: 'ghost' })
    expect(unknown.status).toBe(404)
  })
})
