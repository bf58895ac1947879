import { PlainBroker } from '@linkkit/testing/plain-broker'
import { afterEach, describe, expect, it } from 'vitest'
import { Connection } from '../src/connection.js'
import { isLinkkitError } from '../src/errors.js'
import type { ConnectionOptions } from '../src/options.js'

const triple = {
  productKey: 'a1B2c3D4e5F',
  deviceName: 'device001',
  deviceSecret: '0123456789abcdef0123456789abcdef',
}
const postTopic = `/sys/${triple.productKey}/${triple.deviceName}/thing/event/property/post`
const eventTopic = `/sys/${triple.productKey}/${triple.deviceName}/thing/event/alarm/post`

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** An aedes broker that answers every property and event post itself (so it survives restarts). */
async function cloud(): Promise<PlainBroker> {
  const b = await PlainBroker.start()
  b.answerRequests((topic) => topic === postTopic || topic === eventTopic)
  cleanups.push(() => b.stop())
  return b
}

function device(url: string, extra: Partial<ConnectionOptions> = {}): Connection {
  const c = new Connection({
    ...triple,
    brokerUrl: url,
    reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
    requestTimeoutMs: 3000,
    ...extra,
  })
  cleanups.push(() => c.close())
  return c
}

/** What the broker received on a topic: the `n` param of each request and its QoS on the wire. */
function seen(b: PlainBroker, topic: string): Array<{ n: unknown; qos: number }> {
  return b.published
    .filter((p) => p.topic === topic)
    .map((p) => ({
      n: (JSON.parse(p.payload.toString()) as { params: { n?: unknown } }).params.n,
      qos: p.qos,
    }))
}

async function down(b: PlainBroker, c: Connection): Promise<void> {
  await b.stop()
  await expect.poll(() => c.state).toBe('reconnecting')
}

describe('QoS of Alink requests', () => {
  it('go out at QoS 0 by default; { qos: 1 } per call or alinkQos: 1 opts in, and a call overrides the device', async () => {
    const b = await cloud()
    const c = device(b.url)
    await c.connect()
    expect(c.options.alinkQos).toBe(0)
    expect((await c.request(postTopic, { n: 1 })).code).toBe(200)
    expect((await c.request(postTopic, { n: 2 }, { qos: 1 })).code).toBe(200)
    expect((await c.request(eventTopic, { n: 3 }, { ack: 0 })).code).toBe(200)
    await c.close()

    const one = device(b.url, { alinkQos: 1 })
    await one.connect()
    expect((await one.request(postTopic, { n: 4 })).code).toBe(200)
    expect((await one.request(postTopic, { n: 5 }, { qos: 0 })).code).toBe(200)
    await expect.poll(() => seen(b, eventTopic)).toEqual([{ n: 3, qos: 0 }])
    expect(seen(b, postTopic)).toEqual([
      { n: 1, qos: 0 },
      { n: 2, qos: 1 },
      { n: 4, qos: 1 },
      { n: 5, qos: 0 },
    ])
  })

  it('refuses a QoS other than 0 or 1 with coded errors', async () => {
    expect(() => new Connection({ ...triple, alinkQos: 2 as 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }),
    )
    const b = await cloud()
    const c = device(b.url)
    await c.connect()
    const err = await c.request(postTopic, {}, { qos: 2 as 0 }).catch((e: unknown) => e)
    expect(isLinkkitError(err, 'ERR_INVALID_ARGUMENT')).toBe(true)
    expect(b.published.filter((p) => p.topic === postTopic)).toEqual([])
  })
})

describe('a QoS 0 request while offline', () => {
  it('waits in the offline queue while reconnecting, goes out at QoS 0 after the reconnect and resolves on its reply', async () => {
    const b = await cloud()
    const c = device(b.url)
    await c.connect()
    await c.request(postTopic, { n: 0 })
    await down(b, c)
    const posts = [c.request(postTopic, { n: 1 }), c.request(postTopic, { n: 2 }, { qos: 0 })]
    const event = c.request(eventTopic, { n: 3 }, { ack: 0 })
    await expect.poll(() => c.queuedCount).toBe(3)
    await b.start()
    for (const reply of await Promise.all(posts)) expect(reply.code).toBe(200)
    expect((await event).code).toBe(200)
    expect(seen(b, postTopic)).toEqual([
      { n: 0, qos: 0 },
      { n: 1, qos: 0 },
      { n: 2, qos: 0 },
    ])
    expect(seen(b, eventTopic)).toEqual([{ n: 3, qos: 0 }])
  })

  it('rejects at once with queueOffline: false, or when the queue policy refuses it', async () => {
    const b = await cloud()
    const c = device(b.url, { offlineQueue: { maxSize: 1 } })
    await c.connect()
    await down(b, c)
    const now = await c.request(postTopic, { n: 1 }, { queueOffline: false }).catch((e: unknown) => e)
    expect(isLinkkitError(now, 'ERR_NOT_CONNECTED')).toBe(true)
    const queued = c.request(postTopic, { n: 2 })
    await expect.poll(() => c.queuedCount).toBe(1)
    const full = await c.request(postTopic, { n: 3 }).catch((e: unknown) => e)
    expect(isLinkkitError(full, 'ERR_OFFLINE_QUEUE_FULL')).toBe(true)
    expect(c.queuedCount).toBe(1)
    await b.start()
    expect((await queued).code).toBe(200)
    expect(seen(b, postTopic)).toEqual([{ n: 2, qos: 0 }])
    await c.close()

    const none = device(b.url, { offlineQueue: { maxSize: 0 } })
    await none.connect()
    await down(b, none)
    const refused = await none.request(postTopic, { n: 4 }).catch((e: unknown) => e)
    expect(isLinkkitError(refused, 'ERR_OFFLINE_QUEUE_FULL')).toBe(true)
    expect(none.queuedCount).toBe(0)
  })

  it('rejects when the connection is closed or failed, and queued requests reject on close', async () => {
    const b = await cloud()
    const idle = device(b.url)
    expect(
      isLinkkitError(await idle.request(postTopic, {}).catch((e: unknown) => e), 'ERR_NOT_CONNECTED'),
    ).toBe(true)

    const c = device(b.url)
    await c.connect()
    await down(b, c)
    const queued = c.request(postTopic, { n: 1 }).catch((e: unknown) => e)
    await expect.poll(() => c.queuedCount).toBe(1)
    await c.close()
    expect(isLinkkitError(await queued, 'ERR_CLOSED')).toBe(true)
    expect(isLinkkitError(await c.request(postTopic, {}).catch((e: unknown) => e), 'ERR_CLOSED')).toBe(true)

    await b.start()
    const f = device(b.url, { reconnect: false })
    await f.connect()
    await b.stop()
    await expect.poll(() => f.state).toBe('failed')
    const failed = await f.request(postTopic, {}).catch((e: unknown) => e)
    expect(isLinkkitError(failed, 'ERR_NOT_CONNECTED')).toBe(true)
  })

  it('a request that timed out or was aborted in the queue leaves it and is never sent late', async () => {
    const b = await cloud()
    const c = device(b.url, { offlineQueue: { maxSize: 1 } })
    await c.connect()
    await down(b, c)
    const late = await c.request(postTopic, { n: 1 }, { timeoutMs: 50 }).catch((e: unknown) => e)
    expect(isLinkkitError(late, 'ERR_REQUEST_TIMEOUT')).toBe(true)
    expect(c.queuedCount).toBe(0)
    const ac = new AbortController()
    const aborted = c.request(postTopic, { n: 2 }, { signal: ac.signal }).catch((e: unknown) => e)
    await expect.poll(() => c.queuedCount).toBe(1)
    ac.abort()
    expect(isLinkkitError(await aborted, 'ERR_ABORTED')).toBe(true)
    expect(c.queuedCount).toBe(0)
    // Its place is free again: a queue of one takes the next request.
    const kept = c.request(postTopic, { n: 3 })
    await b.start()
    expect((await kept).code).toBe(200)
    // Queued requests are flushed in order on one connection: n 3 arriving means 1 and 2 never went.
    expect(seen(b, postTopic)).toEqual([{ n: 3, qos: 0 }])
  })

  it('a publish withdrawn by its signal rejects ERR_ABORTED; one already sent is not affected', async () => {
    const b = await cloud()
    const c = device(b.url)
    await c.connect()
    const sentAc = new AbortController()
    await c.publish(postTopic, { id: '1', params: { n: 1 } }, { signal: sentAc.signal })
    sentAc.abort()
    await down(b, c)
    const ac = new AbortController()
    const withdrawn = c.publish(postTopic, { id: '2', params: { n: 2 } }, { signal: ac.signal })
    const kept = c.publish(postTopic, { id: '3', params: { n: 3 } }, { qos: 0, queueOffline: true })
    expect(c.queuedCount).toBe(2)
    ac.abort()
    expect(isLinkkitError(await withdrawn.catch((e: unknown) => e), 'ERR_ABORTED')).toBe(true)
    const already = await c.publish(postTopic, 'x', { signal: ac.signal }).catch((e: unknown) => e)
    expect(isLinkkitError(already, 'ERR_ABORTED')).toBe(true)
    await b.start()
    await kept
    await expect
      .poll(() => seen(b, postTopic))
      .toEqual([
        { n: 1, qos: 1 },
        { n: 3, qos: 0 },
      ])
  })
})
