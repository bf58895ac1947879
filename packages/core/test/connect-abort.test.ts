import { createServer, type Server, type Socket } from 'node:net'
import { PlainBroker } from '@linkkit/testing/plain-broker'
import { describe, expect, it } from 'vitest'
import { Connection } from '../src/connection.js'
import { isLinkkitError } from '../src/errors.js'

const triple = {
  productKey: 'a1B2c3D4e5F',
  deviceName: 'device001',
  deviceSecret: '0123456789abcdef0123456789abcdef',
}

/** A TCP server on loopback that takes the CONNECT and never answers it (a broker that hangs). */
class SilentBroker {
  readonly sockets = new Set<Socket>()
  /** Sockets the client closed (or that ended) so far. */
  closed = 0
  readonly #server: Server

  private constructor(server: Server) {
    this.#server = server
  }

  static async start(): Promise<SilentBroker> {
    const server = createServer()
    const silent = new SilentBroker(server)
    server.on('connection', (socket) => {
      silent.sockets.add(socket)
      socket.on('close', () => {
        silent.sockets.delete(socket)
        silent.closed++
      })
      socket.on('error', () => {})
      // Reads (and drops) the CONNECT, so the client's FIN is seen.
      socket.resume()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return silent
  }

  get url(): string {
    const address = this.#server.address()
    if (address === null || typeof address !== 'object') throw new Error('not listening')
    return `mqtt://127.0.0.1:${address.port}`
  }

  /** Resolves once a client's socket is open on the server. */
  async accepted(): Promise<void> {
    if (this.sockets.size > 0) return
    await new Promise<void>((resolve) => this.#server.once('connection', () => resolve()))
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}

describe('connect({ signal }) and the connect timeout', () => {
  it('aborting a connect in progress rejects ERR_ABORTED and closes the socket; connect() works again', async () => {
    await using silent = await SilentBroker.start()
    await using c = new Connection({ ...triple, brokerUrl: silent.url, connectTimeoutMs: 30_000 })
    const ac = new AbortController()
    const attempt = c.connect({ signal: ac.signal }).catch((e: unknown) => e)
    await silent.accepted()
    ac.abort(new Error('user gave up'))
    const err = await attempt
    expect(isLinkkitError(err, 'ERR_ABORTED')).toBe(true)
    await expect.poll(() => silent.closed).toBe(1)
    expect(silent.sockets.size).toBe(0)
    expect(c.state).toBe('failed')

    // The same Connection connects once a broker answers.
    await using broker = await PlainBroker.start()
    await using c2 = new Connection({ ...triple, brokerUrl: broker.url })
    const pre = new AbortController()
    pre.abort()
    const early = await c2.connect({ signal: pre.signal }).catch((e: unknown) => e)
    expect(isLinkkitError(early, 'ERR_ABORTED')).toBe(true)
    expect(broker.connects).toHaveLength(0)
    expect(await c2.connect({ signal: new AbortController().signal })).toBe(c2)
    expect(c2.connected).toBe(true)
  })

  it('an abort after the connect resolved changes nothing', async () => {
    await using broker = await PlainBroker.start()
    await using c = new Connection({ ...triple, brokerUrl: broker.url })
    const ac = new AbortController()
    await c.connect({ signal: ac.signal })
    ac.abort()
    expect(c.connected).toBe(true)
    await c.publish('/sys/a1B2c3D4e5F/device001/thing/event/property/post', 'x', { qos: 1 })
  })

  it('a broker that never sends CONNACK fails the first connect with ERR_CONNECT_TIMEOUT at connectTimeoutMs, not later', async () => {
    await using silent = await SilentBroker.start()
    const connectTimeoutMs = 400
    await using c = new Connection({ ...triple, brokerUrl: silent.url, connectTimeoutMs })
    // Armed first, so it fires after the connection's timer of connectTimeoutMs unless that one
    // waits longer (the old +1000 ms).
    let late = false
    const guard = setTimeout(() => {
      late = true
    }, connectTimeoutMs + 500)
    const err = await c.connect().catch((e: unknown) => e)
    clearTimeout(guard)
    expect(isLinkkitError(err, 'ERR_CONNECT_TIMEOUT')).toBe(true)
    expect(late).toBe(false)
    await expect.poll(() => silent.closed).toBe(1)
  })
})

describe('subscribe and publish refusals', () => {
  it('a subscription the broker refuses rejects ERR_SUBSCRIBE_FAILED naming the filter', async () => {
    await using broker = await PlainBroker.start()
    broker.refuseSubscriptions((filter) => filter.startsWith('/forbidden/'))
    await using c = new Connection({ ...triple, brokerUrl: broker.url })
    await c.connect()
    const err = await c.subscribe('/forbidden/x', () => {}).catch((e: unknown) => e)
    expect(isLinkkitError(err, 'ERR_SUBSCRIBE_FAILED')).toBe(true)
    expect((err as { topic?: string }).topic).toBe('/forbidden/x')
    // The refused filter is not kept: the next SUBSCRIBE of an allowed filter succeeds alone.
    await c.subscribe('/sys/a1B2c3D4e5F/device001/thing/service/+')
    expect(c.connected).toBe(true)
  })

  it('a refused subscription made before connect() fails the connect with ERR_SUBSCRIBE_FAILED', async () => {
    await using broker = await PlainBroker.start()
    broker.refuseSubscriptions((filter) => filter === '/forbidden/y')
    await using c = new Connection({ ...triple, brokerUrl: broker.url })
    await c.subscribe('/forbidden/y')
    const err = await c.connect().catch((e: unknown) => e)
    expect(isLinkkitError(err, 'ERR_SUBSCRIBE_FAILED')).toBe(true)
  })

  it('publish and request with an invalid topic reject (never throw) with ERR_INVALID_TOPIC_VALUE', async () => {
    await using broker = await PlainBroker.start()
    await using c = new Connection({ ...triple, brokerUrl: broker.url })
    await c.connect()
    for (const topic of ['/a/+/b', '/a/#', '', 'a\u0000b']) {
      let published: Promise<void> | undefined
      expect(() => {
        published = c.publish(topic, 'x')
      }).not.toThrow()
      const err = await published?.catch((e: unknown) => e)
      expect(isLinkkitError(err, 'ERR_INVALID_TOPIC_VALUE')).toBe(true)
      const requested = await c.request(topic, {}).catch((e: unknown) => e)
      expect(isLinkkitError(requested, 'ERR_INVALID_TOPIC_VALUE')).toBe(true)
    }
    expect(broker.published).toHaveLength(0)
  })
})
