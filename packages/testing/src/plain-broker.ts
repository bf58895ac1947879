import { createServer, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import { Aedes } from 'aedes'
import { TLS_CERT, TLS_KEY } from './tls.js'

/**
 * A bare aedes broker on loopback that can be stopped and started again on the same port, for
 * session tests that do not need the platform emulator's authentication. With `{ tls: true }` it
 * listens behind TLS with the self-signed `TLS_CERT` for 127.0.0.1 (an `mqtts://` URL).
 */
export class PlainBroker {
  port = 0
  /** Every client publish as the broker received it, with its QoS on the wire. */
  published: Array<{ topic: string; payload: Buffer; clientId: string | undefined; qos: number }> = []
  /** Every granted subscription, with the QoS the client asked for. */
  subscribed: Array<{ topic: string; qos: number; clientId: string }> = []
  connects: Array<{ clientId: string; username: string | undefined; password: string | undefined }> = []
  #broker: Aedes | undefined
  #answers: ((topic: string) => boolean) | undefined
  #refuse: ((filter: string) => boolean) | undefined
  #server: Server | undefined
  #sockets = new Set<Socket>()
  readonly #tls: boolean

  constructor(options: { tls?: boolean } = {}) {
    this.#tls = options.tls === true
  }

  static async start(options: { tls?: boolean } = {}): Promise<PlainBroker> {
    const b = new PlainBroker(options)
    await b.start()
    return b
  }

  /**
   * Plays the cloud from inside the broker: every client publish on a topic `which` accepts is
   * answered `{ id, code: 200, data: {} }` on `<topic>_reply` (kept across stop/start).
   */
  answerRequests(which: (topic: string) => boolean): void {
    this.#answers = which
  }

  /** Refuses (SUBACK 0x80) every SUBSCRIBE to a filter `which` accepts, as an ACL would. */
  refuseSubscriptions(which: (filter: string) => boolean): void {
    this.#refuse = which
  }

  get url(): string {
    return `${this.#tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${this.port}`
  }

  async start(): Promise<void> {
    const broker = await Aedes.createBroker({
      authenticate: (client, username, password, done) => {
        this.connects.push({ clientId: client.id, username, password: password?.toString() })
        done(null, true)
      },
      // aedes answers 0x80 for a subscription handed back as null.
      authorizeSubscribe: (_client, sub, done) => done(null, this.#refuse?.(sub.topic) ? null : sub),
    })
    broker.on('publish', (packet, client) => {
      if (client)
        this.published.push({
          topic: packet.topic,
          payload: Buffer.from(packet.payload),
          clientId: client.id,
          qos: packet.qos,
        })
      if (client && this.#answers?.(packet.topic)) {
        const { id } = JSON.parse(Buffer.from(packet.payload).toString()) as { id: string }
        const reply = JSON.stringify({ id, code: 200, data: {} })
        setImmediate(() => this.publish(`${packet.topic}_reply`, reply, 0).catch(() => {}))
      }
    })
    broker.on('subscribe', (subs, client) => {
      for (const sub of subs) this.subscribed.push({ topic: sub.topic, qos: sub.qos, clientId: client.id })
    })
    const handle = (socket: Socket) => {
      this.#sockets.add(socket)
      socket.on('close', () => this.#sockets.delete(socket))
      broker.handle(socket)
    }
    const server: Server = this.#tls
      ? createTlsServer({ cert: TLS_CERT, key: TLS_KEY }, handle)
      : createServer(handle)
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', () => resolve())
    })
    const address = server.address()
    if (address && typeof address === 'object') this.port = address.port
    this.#broker = broker
    this.#server = server
  }

  /** Publishes a message from the broker side. */
  async publish(topic: string, payload: string | Buffer, qos: 0 | 1 = 1): Promise<void> {
    const broker = this.#broker
    if (!broker) throw new Error('broker stopped')
    await new Promise<void>((resolve, reject) =>
      broker.publish(
        {
          cmd: 'publish',
          topic,
          payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
          qos,
          retain: false,
          dup: false,
        },
        (err) => (err ? reject(err) : resolve()),
      ),
    )
  }

  /** Stops the broker and drops every connection; the session state is lost. */
  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy()
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()))
    await new Promise<void>((resolve) => (this.#broker ? this.#broker.close(() => resolve()) : resolve()))
    this.#server = undefined
    this.#broker = undefined
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop()
  }
}
