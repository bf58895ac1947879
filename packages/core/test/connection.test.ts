import { Writable } from 'node:stream'
import { PlainBroker } from '@linkkit/testing/plain-broker'
import mqtt from 'mqtt'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { Connection } from '../src/connection.js'
import { isLinkkitError } from '../src/errors.js'
import type { ConnectionOptions } from '../src/options.js'

const triple = {
  productKey: 'a1B2c3D4e5F',
  deviceName: 'device001',
  deviceSecret: '0123456789abcdef0123456789abcdef',
}
const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function broker(): Promise<PlainBroker> {
  const b = await PlainBroker.start()
  cleanups.push(() => b.stop())
  return b
}

function device(url: string, extra: Partial<ConnectionOptions> = {}): Connection {
  const c = new Connection({
    ...triple,
    brokerUrl: url,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    requestTimeoutMs: 2000,
    ...extra,
  })
  cleanups.push(() => c.close())
  return c
}

/** A raw MQTT.js client playing the cloud: answers requests on `<topic>_reply`. */
async function cloud(url: string): Promise<mqtt.MqttClient> {
  const c = await mqtt.connectAsync(url, { clientId: `cloud-${Math.random()}` })
  cleanups.push(() => c.endAsync(true))
  return c
}

const postTopic = `/sys/${triple.productKey}/${triple.deviceName}/thing/event/property/post`

describe('Connection', () => {
  it('connects, subscribes before resolving, and routes messages', async () => {
    const b = await broker()
    const c = device(b.url)
    const got: string[] = []
    await c.subscribe('/sys/a1B2c3D4e5F/device001/thing/service/+', (topic, payload) => {
      got.push(`${topic} ${payload.toString()}`)
    })
    expect(await c.connect()).toBe(c)
    expect(c.connected).toBe(true)
    await b.publish('/sys/a1B2c3D4e5F/device001/thing/service/wakeup', '{"x":1}')
    await expect.poll(() => got).toEqual(['/sys/a1B2c3D4e5F/device001/thing/service/wakeup {"x":1}'])
  })

  it('signs the CONNECT as the platform expects', async () => {
    const b = await broker()
    const c = device(b.url, { now: () => 1700000000000, signMethod: 'hmacmd5' })
    await c.connect()
    expect(b.connects[0]).toEqual({
      clientId:
        'a1B2c3D4e5F.device001|securemode=3,signmethod=hmacmd5,timestamp=1700000000000,_v=linkkit-ts-0.1.0,lan=NodeJS|',
      username: 'device001&a1B2c3D4e5F',
      password: '2eaaea19f3b2e8048fc6a2fc91192377',
    })
  })

  it('resolves requests on the matching reply and rejects non-200 with the reply code', async () => {
    const b = await broker()
    const cl = await cloud(b.url)
    await cl.subscribeAsync(postTopic)
    cl.on('message', (topic, payload) => {
      const req = JSON.parse(payload.toString()) as { id: string; params: { bad?: number } }
      const code = req.params.bad ? 6304 : 200
      cl.publish(
        `${topic}_reply`,
        JSON.stringify({ id: req.id, code, data: {}, message: code === 200 ? 'success' : 'bad' }),
      )
    })
    const c = device(b.url)
    await c.connect()
    const ok = await c.request(postTopic, { LightSwitch: 1 }, { method: 'thing.event.property.post' })
    expect(ok.code).toBe(200)
    const err = await c.request(postTopic, { bad: 1 }).catch((e: unknown) => e)
    expect(isLinkkitError(err, 'ERR_REPLY')).toBe(true)
    expect((err as { replyCode: number }).replyCode).toBe(6304)
  })

  it('times out, aborts, and ignores late or unknown replies', async () => {
    const b = await broker()
    const c = device(b.url)
    await c.connect()
    const errors: unknown[] = []
    c.on('error', (e) => errors.push(e))
    const t = await c.request(postTopic, {}, { timeoutMs: 100 }).catch((e: unknown) => e)
    expect(isLinkkitError(t, 'ERR_REQUEST_TIMEOUT')).toBe(true)
    const ac = new AbortController()
    const p = c.request(postTopic, {}, { signal: ac.signal })
    ac.abort()
    expect(isLinkkitError(await p.catch((e: unknown) => e), 'ERR_ABORTED')).toBe(true)
    // With a request waiting, a reply that is not JSON is reported; an unknown id is only logged.
    const waiting = c.request(postTopic, {}, { timeoutMs: 400 }).catch((e: unknown) => e)
    await b.publish(`${postTopic}_reply`, JSON.stringify({ id: '42', code: 200, data: {} }))
    await b.publish(`${postTopic}_reply`, 'not json')
    await expect.poll(() => errors.length).toBe(1)
    expect(isLinkkitError(errors[0], 'ERR_MALFORMED_PAYLOAD')).toBe(true)
    expect(isLinkkitError(await waiting, 'ERR_REQUEST_TIMEOUT')).toBe(true)
    // With none waiting, a `_reply` topic is routed like any other (binary up_raw_reply, say).
    const routed: string[] = []
    c.route(`${postTopic}_reply`, (_t, p) => {
      routed.push(p.toString())
    })
    await b.publish(`${postTopic}_reply`, 'raw bytes')
    await expect.poll(() => routed).toEqual(['raw bytes'])
    expect(errors).toHaveLength(1)
    expect(c.connected).toBe(true)
  })

  it('sys.ack 0 resolves once sent and waits for no reply', async () => {
    const b = await broker()
    const c = device(b.url)
    await c.connect()
    const r = await c.request(postTopic, { a: 1 }, { ack: 0 })
    expect(r.code).toBe(200)
    await expect
      .poll(() => b.published.some((p) => JSON.parse(p.payload.toString()).sys?.ack === 0))
      .toBe(true)
  })

  it('queues QoS1 publishes while the broker is down, flushes them in order, and restores subscriptions', async () => {
    const b = await broker()
    const c = device(b.url)
    const got: string[] = []
    await c.subscribe('/sys/a1B2c3D4e5F/device001/thing/service/+', (_t, p) => {
      got.push(p.toString())
    })
    await c.connect()
    const states: string[] = []
    c.on('disconnected', () => states.push('disconnected'))
    c.on('connected', (i) => states.push(i.reconnect ? 'reconnected' : 'connected'))
    await b.stop()
    await expect.poll(() => c.state).toBe('reconnecting')
    const sent = Array.from({ length: 20 }, (_, i) => c.publish(postTopic, { i }))
    expect(c.queuedCount).toBe(20)
    await b.start()
    await Promise.all(sent)
    const order = b.published
      .filter((p) => p.topic === postTopic)
      .map((p) => JSON.parse(p.payload.toString()).i)
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i))
    await b.publish('/sys/a1B2c3D4e5F/device001/thing/service/x', 'after-restart')
    await expect.poll(() => got).toEqual(['after-restart'])
    expect(states).toEqual(['disconnected', 'reconnected'])
  })

  it('bounds the offline queue with a coded error', async () => {
    const b = await broker()
    const c = device(b.url, { offlineQueue: { maxSize: 2 } })
    await c.connect()
    await b.stop()
    await expect.poll(() => c.state).toBe('reconnecting')
    const p = [c.publish(postTopic, '1'), c.publish(postTopic, '2'), c.publish(postTopic, '3')]
    const third = await p[2]!.catch((e: unknown) => e)
    expect(isLinkkitError(third, 'ERR_OFFLINE_QUEUE_FULL')).toBe(true)
    await c.close()
    for (const q of p.slice(0, 2))
      expect(isLinkkitError(await q.catch((e: unknown) => e), 'ERR_CLOSED')).toBe(true)
  })

  it('drop-oldest rejects the oldest and emits an error event', async () => {
    const b = await broker()
    const c = device(b.url, { offlineQueue: { maxSize: 1, overflow: 'drop-oldest' } })
    await c.connect()
    const errors: unknown[] = []
    c.on('error', (e) => errors.push(e))
    await b.stop()
    await expect.poll(() => c.state).toBe('reconnecting')
    const first = c.publish(postTopic, '1')
    const second = c.publish(postTopic, '2')
    expect(isLinkkitError(await first.catch((e: unknown) => e), 'ERR_OFFLINE_QUEUE_FULL')).toBe(true)
    expect(errors.some((e) => isLinkkitError(e, 'ERR_OFFLINE_QUEUE_FULL'))).toBe(true)
    await b.start()
    await second
  })

  it('rejects connect to a closed port with ERR_CONNECTION, and close is idempotent', async () => {
    const b = await broker()
    const url = b.url
    await b.stop()
    const c = device(url)
    const err = await c.connect().catch((e: unknown) => e)
    expect(isLinkkitError(err, 'ERR_CONNECTION')).toBe(true)
    await c.close()
    await c.close()
    expect(isLinkkitError(await c.publish(postTopic, 'x').catch((e: unknown) => e), 'ERR_CLOSED')).toBe(true)
  })

  it('rejects invalid options and topic values with coded errors', () => {
    expect(() => new Connection({ ...triple, deviceName: 'a/b' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_TOPIC_VALUE' }),
    )
    expect(() => new Connection({ ...triple, deviceSecret: '' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }),
    )
    expect(() => new Connection({ ...triple, brokerUrl: 'http://x' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }),
    )
    expect(() => new Connection({ ...triple, keepaliveSeconds: 5000 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }),
    )
    const c = new Connection(triple)
    expect(c.options.brokerUrl).toBe('mqtts://a1B2c3D4e5F.iot-as-mqtt.cn-shanghai.aliyuncs.com:443')
  })

  it('never logs the secret, the password or a signed URL, even at trace level', async () => {
    const b = await broker()
    let out = ''
    const sink = new Writable({
      write(chunk, _e, cb) {
        out += chunk.toString()
        cb()
      },
    })
    const logger = pino({ level: 'trace' }, sink)
    const c = device(b.url, { logger })
    await c.connect()
    c.logger.info(
      { deviceSecret: triple.deviceSecret, url: 'https://x/fw.bin?Signature=SECRETSIG' },
      'test line',
    )
    await c.request(postTopic, {}, { timeoutMs: 50 }).catch(() => {})
    await c.close()
    expect(out).toContain('connected')
    expect(out).toContain('https://x/fw.bin?[redacted]')
    expect(out).not.toContain(triple.deviceSecret)
    expect(out).not.toContain('SECRETSIG')
  })
})
