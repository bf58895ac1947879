import type { MqttClient } from 'mqtt'
import { describe, expect, it } from 'vitest'
import { device, lampEmulator, nextMatching, nextOn, SYS } from './alink-helpers.js'
import { connect, credentials, DN, PK } from './helpers.js'

type Body = Record<string, unknown>

/** Makes the device answer every request whose topic matches `pattern` with `answer(topic, body)`. */
function respond(
  c: MqttClient,
  pattern: RegExp,
  answer: (topic: string, body: Body) => { topic: string; payload: string | Buffer } | undefined,
): Body[] {
  const seen: Body[] = []
  c.on('message', (topic, payload) => {
    if (!pattern.test(topic)) return
    const body = JSON.parse(payload.toString('utf8')) as Body
    seen.push(body)
    const out = answer(topic, body)
    if (out !== undefined) c.publish(out.topic, out.payload, { qos: 1 })
  })
  return seen
}

const ok = (data: unknown) => (topic: string, body: Body) => ({
  topic: `${topic}_reply`,
  payload: JSON.stringify({ id: body.id, code: 200, data }),
})

describe('setProperties and getProperties', () => {
  it('sends a 3.x-readable property set and resolves with the set_reply', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const seen = respond(c, /property\/set$/, ok({}))
    const reply = await emu.setProperties(PK, DN, { Brightness: 60, LightSwitch: 1 })
    expect(reply).toMatchObject({ code: 200, data: {} })
    expect(seen).toEqual([
      {
        id: reply.id,
        version: '1.0',
        params: { Brightness: 60, LightSwitch: 1 },
        method: 'thing.service.property.set',
      },
    ])
    expect(typeof seen[0]?.id).toBe('string')
  })

  it('resolves with a non-200 code the device answers', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    respond(c, /property\/set$/, (topic, body) => ({
      topic: `${topic}_reply`,
      payload: JSON.stringify({ id: body.id, code: 100_001, data: {}, message: 'busy' }),
    }))
    expect(await emu.setProperties(PK, DN, { Brightness: 1 })).toMatchObject({
      code: 100_001,
      message: 'busy',
    })
  })

  it('refuses values the TSL refuses before sending anything', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const seen = respond(c, /./, () => undefined)
    await expect(emu.setProperties(PK, DN, { Brightness: 101 })).rejects.toMatchObject({
      code: 'ERR_TSL_VALIDATION',
    })
    await expect(emu.setProperties(PK, DN, { Temperature: 20.5 })).rejects.toMatchObject({
      code: 'ERR_TSL_VALIDATION',
      details: { rule: 'readonly' },
    })
    await expect(emu.setProperties(PK, DN, {})).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    expect(seen).toEqual([])
  })

  it('rejects ERR_REQUEST_TIMEOUT without a reply and ERR_NOT_CONNECTED for an offline device', async () => {
    await using emu = await lampEmulator()
    await expect(emu.setProperties(PK, DN, { Brightness: 1 })).rejects.toMatchObject({
      code: 'ERR_NOT_CONNECTED',
    })
    await device(emu)
    const started = Date.now()
    await expect(emu.setProperties(PK, DN, { Brightness: 1 }, { timeoutMs: 150 })).rejects.toMatchObject({
      code: 'ERR_REQUEST_TIMEOUT',
    })
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
  })

  it('getProperties sends the identifiers and resolves with their values', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const seen = respond(c, /property\/get$/, ok({ Brightness: 42 }))
    expect(await emu.getProperties(PK, DN, ['Brightness'])).toMatchObject({
      code: 200,
      data: { Brightness: 42 },
    })
    expect(seen[0]).toMatchObject({ params: ['Brightness'], method: 'thing.service.property.get' })
    await expect(emu.getProperties(PK, DN, ['Nope'])).rejects.toMatchObject({
      code: 'ERR_TSL_UNKNOWN_IDENTIFIER',
    })
  })
})

describe('invokeService', () => {
  it('async: publishes on thing/service/{id} and resolves with the _reply, matching replies by id', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const pending: Body[] = []
    c.on('message', (topic, payload) => {
      if (topic !== `${SYS}/thing/service/wakeup`) return
      pending.push(JSON.parse(payload.toString('utf8')) as Body)
      if (pending.length < 2) return
      // Answer in reverse order: each call must still get its own data.
      for (const body of [...pending].reverse()) {
        const out = (body.params as { delaySeconds: number }).delaySeconds
        c.publish(`${topic}_reply`, JSON.stringify({ id: body.id, code: 200, data: { out } }))
      }
    })
    const [a, b] = await Promise.all([
      emu.invokeService(PK, DN, 'wakeup', { delaySeconds: 1 }),
      emu.invokeService(PK, DN, 'wakeup', { delaySeconds: 2 }),
    ])
    expect([a.data, b.data]).toEqual([{ out: 1 }, { out: 2 }])
    expect(pending[0]).toMatchObject({ version: '1.0', method: 'thing.service.wakeup' })
  })

  it('validates params against the TSL input and refuses unknown services', async () => {
    await using emu = await lampEmulator()
    await device(emu)
    await expect(emu.invokeService(PK, DN, 'wakeup', { delaySeconds: -1 })).rejects.toMatchObject({
      code: 'ERR_TSL_VALIDATION',
    })
    await expect(emu.invokeService(PK, DN, 'selfDestruct', {})).rejects.toMatchObject({
      code: 'ERR_TSL_UNKNOWN_IDENTIFIER',
    })
  })

  it('rejects ERR_MALFORMED_PAYLOAD when the reply is not JSON', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    respond(c, /thing\/service\/wakeup$/, (topic, body) => ({
      topic: `${topic}_reply`,
      payload: `"id":"${String(body.id)}","code":"400","data":{}`,
    }))
    await expect(emu.invokeService(PK, DN, 'wakeup', { delaySeconds: 1 })).rejects.toMatchObject({
      code: 'ERR_MALFORMED_PAYLOAD',
    })
  })

  it('sync legacy: rrpc/request/{rrpcId} answered on rrpc/response/{rrpcId} by a subscribing device', async () => {
    await using emu = await lampEmulator()
    const c = await connect(emu.mqttUrl, credentials())
    await c.subscribeAsync(`${SYS}/rrpc/request/+`, { qos: 0 })
    const seen = respond(c, /\/rrpc\/request\//, (topic, body) => ({
      topic: topic.replace('/rrpc/request/', '/rrpc/response/'),
      payload: JSON.stringify({ id: body.id, code: 200, data: { done: 1, durationMs: 300.5 } }),
    }))
    const color = { Red: 1, Green: 2, Blue: 3 }
    const reply = await emu.invokeService(PK, DN, 'Blink', { times: 3, intervalMs: 100, color })
    expect(reply).toMatchObject({ code: 200, data: { done: 1, durationMs: 300.5 } })
    expect(seen[0]).toMatchObject({ method: 'thing.service.Blink', params: { times: 3 } })
    expect(c.connected).toBe(true)
    expect(emu.device(PK, DN)?.online).toBe(true)
  })

  it('sync ext: a device with ext bit0 gets /ext/rrpc/{id}/sys/... and answers on the same topic', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu, { ext: '1' })
    const request = nextMatching(c, /^\/ext\/rrpc\//)
    const call = emu.invokeService(PK, DN, 'Blink', { times: 1 })
    const [topic, payload] = await request
    expect(topic).toMatch(new RegExp(`^/ext/rrpc/[^/]+${SYS}/thing/service/Blink$`))
    const body = JSON.parse(payload.toString('utf8')) as Body
    await c.publishAsync(topic, JSON.stringify({ id: body.id, code: 200, data: { done: 1 } }), { qos: 1 })
    expect(await call).toMatchObject({ code: 200, data: { done: 1 } })
    expect(c.connected).toBe(true)
  })

  it('sync on demand and rrpc form by option, overriding the TSL and the clientId', async () => {
    await using emu = await lampEmulator({ tsl: false })
    const c = await device(emu, { ext: '3' })
    respond(c, /\/rrpc\/request\//, (topic, body) => ({
      topic: topic.replace('/rrpc/request/', '/rrpc/response/'),
      payload: JSON.stringify({ id: body.id, code: 200, data: { via: 'legacy' } }),
    }))
    const reply = await emu.invokeService(PK, DN, 'any', {}, { sync: true, rrpc: 'legacy' })
    expect(reply.data).toEqual({ via: 'legacy' })
  })

  it('sync times out with ERR_REQUEST_TIMEOUT and forgets the late reply', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const request = nextMatching(c, /\/rrpc\/request\//)
    await expect(emu.invokeService(PK, DN, 'Blink', { times: 1 }, { timeoutMs: 100 })).rejects.toMatchObject({
      code: 'ERR_REQUEST_TIMEOUT',
    })
    const [topic, payload] = await request
    const late = JSON.stringify({ id: (JSON.parse(payload.toString()) as Body).id, code: 200, data: {} })
    await c.publishAsync(topic.replace('/rrpc/request/', '/rrpc/response/'), late, { qos: 1 })
    expect(emu.device(PK, DN)?.online).toBe(true)
  })
})

describe('raw data and cloud errors', () => {
  it('sendRaw publishes bytes on down_raw and resolves with the down_raw_reply bytes', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    c.on('message', (topic, payload) => {
      if (topic === `${SYS}/thing/model/down_raw`)
        c.publish(`${topic}_reply`, Buffer.from([0xaa, payload[0] ?? 0]))
    })
    const reply = await emu.sendRaw(PK, DN, new Uint8Array([0x07, 0xff, 0x00]))
    expect([...reply]).toEqual([0xaa, 0x07])
  })

  it('sendCloudError publishes code, data and message on /ext/error', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const notice = nextOn(c, `/ext/error/${PK}/${DN}`)
    await emu.sendCloudError(PK, DN, { code: 6100, message: 'device not found' })
    expect(JSON.parse((await notice).toString('utf8'))).toEqual({
      code: 6100,
      data: {},
      message: 'device not found',
    })
  })

  it('rejects pending requests with ERR_CLOSED when the emulator closes', async () => {
    const emu = await lampEmulator()
    const c = await device(emu)
    const received = nextOn(c, `${SYS}/thing/service/property/set`)
    const call = emu.setProperties(PK, DN, { Brightness: 1 })
    const rejected = expect(call).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    await received
    await emu.close()
    await rejected
    await expect(emu.invokeService(PK, DN, 'wakeup')).rejects.toMatchObject({ code: 'ERR_CLOSED' })
  })
})
