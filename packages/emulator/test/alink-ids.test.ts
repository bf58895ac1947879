import type { MqttClient } from 'mqtt'
import { describe, expect, it } from 'vitest'
import { Emulator } from '../src/index.js'
import { device, lampEmulator, nextMatching, nextOn, request, SYS } from './alink-helpers.js'
import { connect, credentials, DEVICE, DN, PK } from './helpers.js'

type Body = Record<string, unknown>

/** The id the vendor Node SDK sends with a property post (docs/protocol.md §6 item 15). */
const NODE_SDK_ID = `17|exp-topic|${SYS}/thing/event/property/post_reply`
const POST = `${SYS}/thing/event/property/post`

/** Publishes a post whose reply must not come, then a good one; resolves with every reply seen. */
async function repliesAround(c: MqttClient, bad: string): Promise<Body[]> {
  const replies: Body[] = []
  const onMessage = (topic: string, payload: Buffer) => {
    if (topic === `${POST}_reply`) replies.push(JSON.parse(payload.toString('utf8')) as Body)
  }
  c.on('message', onMessage)
  await c.publishAsync(POST, bad, { qos: 1 })
  await request(c, POST, { id: 'sentinel', params: { Brightness: 1 } })
  c.off('message', onMessage)
  return replies
}

describe('uplink ids', () => {
  it('echoes a Node SDK id of over 64 characters exactly, on posts, tags, config and events', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    expect(NODE_SDK_ID.length).toBeGreaterThan(64)
    const post = await request(c, POST, { id: NODE_SDK_ID, params: { Brightness: 5 } })
    expect(post).toMatchObject({ id: NODE_SDK_ID, code: 200 })
    for (const path of ['thing/deviceinfo/update', 'thing/event/lowpower/post', 'thing/config/get']) {
      const id = `3|exp-topic|${SYS}/${path}_reply`
      const params = path.includes('deviceinfo') ? [{ attrKey: 'k', attrValue: 'v' }] : { power: 3 }
      expect(await request(c, `${SYS}/${path}`, { id, version: '1.0', params })).toMatchObject({ id })
    }
    expect(emu.device(PK, DN)?.properties?.Brightness?.value).toBe(5)
  })

  it('accepts ids up to 1024 characters and answers nothing to a longer or empty one', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const longest = `${'é|/'.repeat(341)}x`
    expect(longest).toHaveLength(1024)
    expect(await request(c, POST, { id: longest, params: { Brightness: 2 } })).toMatchObject({
      id: longest,
      code: 200,
    })
    for (const id of [`${longest}y`, '', 12.5, -1, { id: 1 }]) {
      const replies = await repliesAround(c, JSON.stringify({ id, params: { Brightness: 3 } }))
      expect(replies.map((r) => r.id)).toEqual(['sentinel'])
    }
    expect(await request(c, POST, { id: 4_294_967_295, params: { Brightness: 4 } })).toMatchObject({
      id: '4294967295',
    })
  })

  it('recovers a long id from a payload that is not JSON and answers 6207 with it', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const reply = await request(c, POST, `{"id":"${NODE_SDK_ID}","params":{`)
    expect(reply).toMatchObject({ id: NODE_SDK_ID, code: 6207 })
  })

  it('echoes long ids on gateway requests and OTA firmware queries', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const c = await connect(emu.mqttUrl, credentials({ params: { _ss: '1' } }))
    const topo = `${SYS}/thing/topo/get`
    const id = `8|exp-topic|${topo}_reply`
    expect(
      await request(c, topo, { id, version: '1.0', params: {}, method: 'thing.topo.get' }),
    ).toMatchObject({
      id,
      code: 200,
      data: [],
    })
    const query = `${SYS}/thing/ota/firmware/get`
    const queryId = `9|exp-topic|${query}_reply`
    expect(await request(c, query, { id: queryId, params: {} })).toMatchObject({ id: queryId, data: {} })
  })
})

describe('service replies with a fresh id (docs/protocol.md §6 item 16)', () => {
  /** Answers every call on `topic` with a new id, as the Node SDK's `reply()` does. */
  function answerWithFreshIds(c: MqttClient, topic: string, replyTopic: (t: string) => string): Body[] {
    const calls: Body[] = []
    let fresh = 1
    c.on('message', (t, payload) => {
      if (!new RegExp(topic).test(t)) return
      const body = JSON.parse(payload.toString('utf8')) as Body
      calls.push(body)
      const params = body.params as Record<string, unknown>
      const reply = { code: 200, data: { echo: params.delaySeconds ?? params.times }, id: String(fresh++) }
      c.publish(replyTopic(t), JSON.stringify(reply), { qos: 1 })
    })
    return calls
  }

  it('settles the oldest pending call of the service, one reply each, in order', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const calls = answerWithFreshIds(c, `^${SYS}/thing/service/wakeup$`, (t) => `${t}_reply`)
    const replies = await Promise.all([
      emu.invokeService(PK, DN, 'wakeup', { delaySeconds: 1 }),
      emu.invokeService(PK, DN, 'wakeup', { delaySeconds: 2 }),
      emu.invokeService(PK, DN, 'wakeup', { delaySeconds: 3 }),
    ])
    expect(replies.map((r) => r.data)).toEqual([{ echo: 1 }, { echo: 2 }, { echo: 3 }])
    expect(replies.map((r) => r.id)).toEqual(calls.map((call) => call.id))
  })

  it('does the same for legacy RRPC and property set replies', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    await c.subscribeAsync(`${SYS}/rrpc/request/+`, { qos: 0 })
    answerWithFreshIds(c, '/rrpc/request/', (t) => t.replace('/rrpc/request/', '/rrpc/response/'))
    const color = { Red: 1, Green: 2, Blue: 3 }
    const sync = await emu.invokeService(PK, DN, 'Blink', { times: 2, intervalMs: 100, color })
    expect(sync).toMatchObject({ code: 200, data: { echo: 2 } })
    const set = nextOn(c, `${SYS}/thing/service/property/set`)
    const setting = emu.setProperties(PK, DN, { Brightness: 9 })
    await set
    await c.publishAsync(`${SYS}/thing/service/property/set_reply`, '{"id":"x1","code":200,"data":{}}')
    expect(await setting).toMatchObject({ code: 200 })
  })

  it('takes no fresh id across services, nor the late reply of a call that timed out', async () => {
    await using emu = await lampEmulator()
    const c = await device(emu)
    const first = nextMatching(c, /thing\/service\/wakeup$/)
    await expect(
      emu.invokeService(PK, DN, 'wakeup', { delaySeconds: 1 }, { timeoutMs: 50 }),
    ).rejects.toMatchObject({ code: 'ERR_REQUEST_TIMEOUT' })
    const lateId = (JSON.parse((await first)[1].toString('utf8')) as Body).id
    const second = nextMatching(c, /thing\/service\/wakeup$/)
    const call = emu.invokeService(PK, DN, 'wakeup', { delaySeconds: 2 })
    const secondId = (JSON.parse((await second)[1].toString('utf8')) as Body).id
    const reply = `${SYS}/thing/service/wakeup_reply`
    // Neither the timed-out call's late answer nor another service's reply may settle this call.
    await c.publishAsync(reply, JSON.stringify({ id: lateId, code: 500, data: { late: true } }), { qos: 1 })
    await c.publishAsync(`${SYS}/thing/service/Blink_reply`, '{"id":"77","code":201,"data":{}}', { qos: 1 })
    await c.publishAsync(reply, JSON.stringify({ id: 'fresh', code: 200, data: { out: 2 } }), { qos: 1 })
    expect(await call).toEqual({ id: secondId, code: 200, data: { out: 2 } })
  })
})
