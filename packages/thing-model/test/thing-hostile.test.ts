import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parse } from './helpers/cloud.js'
import { lamp, startRig, sys, triple } from './helpers/setup.js'

interface Case {
  topic: string
  payload: string | Buffer
  /** Errors the client must emit for it (all naming `topic`). */
  errors: number
  /** The reply it deserves: on `replyTopic`, with this id and code. */
  reply?: { id: string; code: number; replyTopic?: string }
}

const set = `${sys}/thing/service/property/set`
const get = `${sys}/thing/service/property/get`
const wakeup = `${sys}/thing/service/wakeup`
const legacy = `${sys}/rrpc/request/555`
const ext = `/ext/rrpc/556${sys}/thing/service/wakeup`
const extError = `/ext/error/${triple.productKey}/${triple.deviceName}`
const ntp = `/ext/ntp/${triple.productKey}/${triple.deviceName}/response`
const downRaw = `${sys}/thing/model/down_raw`
const megabyte = 'x'.repeat(1024 * 1024)
const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`
const garbage = Buffer.from([0xff, 0x00, 0xfe, 0x7b, 0x22, 0x69, 0x64, 0x80, 0xc3, 0x28])

const cases: Case[] = [
  { topic: set, payload: 'not json{', errors: 1 },
  { topic: set, payload: '', errors: 1 },
  { topic: set, payload: garbage, errors: 1 },
  { topic: set, payload: 'null', errors: 1 },
  { topic: set, payload: '[1,2]', errors: 1 },
  { topic: set, payload: '"string"', errors: 1 },
  {
    topic: set,
    payload: `{"id":"big","version":"1.0","params":{"Label":"${megabyte}"}}`,
    errors: 1,
    reply: { id: 'big', code: 460 },
  },
  { topic: set, payload: `{"id":"deep","params":${deep}}`, errors: 1, reply: { id: 'deep', code: 460 } },
  { topic: set, payload: '{"id":"t1","params":5}', errors: 1, reply: { id: 't1', code: 6301 } },
  {
    topic: set,
    payload: '{"id":"t2","params":{"Brightness":"1"}}',
    errors: 1,
    reply: { id: 't2', code: 6306 },
  },
  {
    topic: set,
    payload: '{"id":"t3","params":{"__proto__":{"polluted":1}}}',
    errors: 1,
    reply: { id: 't3', code: 6320 },
  },
  {
    topic: set,
    payload: '{"id":"nop","version":"1.0","method":"thing.service.property.set"}',
    errors: 1,
    reply: { id: 'nop', code: 460 },
  },
  { topic: set, payload: '{"id":{"x":1},"params":{}}', errors: 1 },
  { topic: set, payload: '{"id":1e300,"params":{}}', errors: 1 },
  { topic: set, payload: `{"id":"${'9'.repeat(10_000)}","params":{}}`, errors: 1 },
  {
    topic: set,
    payload: '{"id":6,"params":{"Brightness":1},"method":"thing.unknown"}',
    errors: 0,
    reply: { id: '6', code: 200 },
  },
  { topic: get, payload: '{"id":"g1","params":"Brightness"}', errors: 1, reply: { id: 'g1', code: 6301 } },
  { topic: get, payload: `{"id":"g2","params":["${megabyte}"]}`, errors: 1, reply: { id: 'g2', code: 460 } },
  {
    topic: wakeup,
    payload: '{"id":"w1","params":{"delaySeconds":{"$gt":1}}}',
    errors: 1,
    reply: { id: 'w1', code: 6306 },
  },
  {
    topic: wakeup,
    payload: '{"id":"w2","version":"1.0","params":[],"method":"thing.service.wakeup"}',
    errors: 1,
    reply: { id: 'w2', code: 6301 },
  },
  { topic: wakeup, payload: garbage, errors: 1 },
  { topic: `${sys}/thing/service/a/b`, payload: '{"id":"1","params":{}}', errors: 1 },
  {
    topic: legacy,
    payload: '{"id":"r1","version":"1.0","params":{}}',
    errors: 1,
    reply: { id: 'r1', code: 6300, replyTopic: `${sys}/rrpc/response/555` },
  },
  {
    topic: legacy,
    payload: '{"id":"r2","params":{},"method":"thing.service.x/y"}',
    errors: 1,
    reply: { id: 'r2', code: 6300, replyTopic: `${sys}/rrpc/response/555` },
  },
  { topic: legacy, payload: deep, errors: 1 },
  { topic: ext, payload: 'garbage', errors: 1 },
  {
    topic: ext,
    payload: '{"id":"e1","params":{"delaySeconds":2}}',
    errors: 1,
    reply: { id: 'e1', code: 6300, replyTopic: ext },
  },
  { topic: `/ext/rrpc/557${sys}/thing/elsewhere`, payload: '{}', errors: 1 },
  { topic: extError, payload: garbage, errors: 1 },
  { topic: extError, payload: '{"code":"abc","message":5}', errors: 1 },
  { topic: ntp, payload: 'nope', errors: 1 },
  { topic: ntp, payload: '{"deviceSendTime":"1"}', errors: 1 },
  { topic: ntp, payload: '{"deviceSendTime":"1","serverRecvTime":"2","serverSendTime":"3"}', errors: 0 },
  { topic: downRaw, payload: Buffer.alloc(1024 * 1024, 7), errors: 1 },
  { topic: downRaw, payload: garbage, errors: 0 },
  { topic: `${sys}/thing/event/property/post_reply`, payload: garbage, errors: 0 },
  { topic: `${sys}/thing/service/wakeup_reply`, payload: '{"id":"1","code":200,"data":{}}', errors: 0 },
]

let unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => unhandled.push(reason)
beforeEach(() => {
  unhandled = []
  process.on('unhandledRejection', onUnhandled)
})
afterEach(() => {
  process.off('unhandledRejection', onUnhandled)
})

describe('ThingClient under hostile downlinks', () => {
  it('stays connected, answers what deserves an answer, reports the rest, and rejects nothing unhandled', async () => {
    await using rig = await startRig({ thingModel: lamp })
    rig.client.onPropertySet(() => {})
    for (const c of cases) await rig.cloud.publish(c.topic, c.payload)

    for (const c of cases.filter((x) => x.reply)) {
      const { id, code, replyTopic = `${c.topic}_reply` } = c.reply!
      const reply = await rig.cloud.waitFor((m) => m.topic === replyTopic && parse(m.payload)?.id === id)
      expect(parse(reply.payload), `reply to ${id}`).toMatchObject({ id, code })
    }
    const expected: Record<string, number> = {}
    for (const c of cases) if (c.errors > 0) expected[c.topic] = (expected[c.topic] ?? 0) + c.errors
    const byTopic = () => {
      const counts: Record<string, number> = {}
      for (const e of rig.errors) counts[String(e.topic)] = (counts[String(e.topic)] ?? 0) + 1
      return counts
    }
    await expect.poll(byTopic).toEqual(expected)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()

    // Still a working device.
    expect(rig.connection.connected).toBe(true)
    expect((await rig.cloud.setProperties({ Brightness: 9 })).code).toBe(200)
    expect((await rig.client.postProperties({ Brightness: 9 })).code).toBe(200)
    await new Promise((r) => setTimeout(r, 50))
    expect(unhandled).toEqual([])
  })

  it('answers 429 beyond maxConcurrentRequests instead of piling up handlers', async () => {
    await using rig = await startRig({ maxConcurrentRequests: 3 })
    const release: Array<() => void> = []
    rig.client.onService('slow', () => new Promise<object>((resolve) => release.push(() => resolve({}))))
    const calls = Array.from({ length: 8 }, () => rig.cloud.invokeService('slow', {}))
    await expect.poll(() => release.length).toBe(3)
    await expect.poll(() => rig.cloud.on(`${sys}/thing/service/slow_reply`).length).toBe(5)
    for (const r of release) r()
    const codes = (await Promise.all(calls)).map((r) => r.code).sort()
    expect(codes).toEqual([200, 200, 200, 429, 429, 429, 429, 429])
    expect(unhandled).toEqual([])
  })

  it('survives a flood of 2,000 mixed messages and still answers', async () => {
    await using rig = await startRig({ thingModel: lamp })
    const payloads = [
      '{',
      garbage,
      '{"id":"1","params":{"Brightness":1}}',
      '{"id":"2","params":{"Brightness":-5}}',
      deep.slice(0, 2000),
    ]
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => rig.cloud.publish(set, payloads[i % payloads.length]!, 0)),
      )
    }
    await expect.poll(() => rig.cloud.on(`${set}_reply`).length, { timeout: 10_000 }).toBe(800)
    expect(rig.connection.connected).toBe(true)
    expect((await rig.cloud.setProperties({ Brightness: 2 })).code).toBe(200)
    expect(unhandled).toEqual([])
  })
})
