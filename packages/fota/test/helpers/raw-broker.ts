import { once } from 'node:events'
import { createServer, type Socket } from 'node:net'
import { Aedes } from 'aedes'

/** One PUBLISH or SUBSCRIBE of a client, as the broker saw it on the wire. */
export interface WireRecord {
  topic: string
  qos: number
  payload: Buffer
}

/**
 * A bare aedes broker on 127.0.0.1, port 0, that accepts any client: the cloud's side of a test
 * with no platform emulator in between. It keeps what clients published and subscribed, with
 * the QoS on the wire, and publishes as the cloud.
 */
export class RawBroker implements AsyncDisposable {
  /** Every client PUBLISH, in arrival order. */
  readonly published: WireRecord[] = []
  /** Every granted subscription (payload empty). */
  readonly subscribed: WireRecord[] = []
  readonly #broker: Aedes
  readonly #server: ReturnType<typeof createServer>
  readonly #sockets = new Set<Socket>()

  private constructor(broker: Aedes) {
    this.#broker = broker
    broker.on('publish', (packet, client) => {
      if (!client) return
      this.published.push({ topic: packet.topic, qos: packet.qos, payload: Buffer.from(packet.payload) })
    })
    broker.on('subscribe', (subscriptions) => {
      for (const { topic, qos } of subscriptions)
        this.subscribed.push({ topic, qos, payload: Buffer.alloc(0) })
    })
    this.#server = createServer((socket) => {
      this.#sockets.add(socket)
      socket.once('close', () => this.#sockets.delete(socket))
      broker.handle(socket)
    })
  }

  static async start(): Promise<RawBroker> {
    const broker = new RawBroker(await Aedes.createBroker())
    broker.#server.listen(0, '127.0.0.1')
    await once(broker.#server, 'listening')
    return broker
  }

  get url(): string {
    const address = this.#server.address()
    if (address === null || typeof address === 'string') throw new Error('the broker is not listening')
    return `mqtt://127.0.0.1:${address.port}`
  }

  /** The client PUBLISHes on `topic`, parsed as JSON. */
  sent(topic: string): Array<Record<string, unknown>> {
    return this.published
      .filter((p) => p.topic === topic)
      .map((p) => JSON.parse(p.payload.toString()) as Record<string, unknown>)
  }

  /** Publishes as the cloud. */
  publish(topic: string, payload: string | Buffer, qos: 0 | 1 = 1): Promise<void> {
    const packet = { cmd: 'publish', topic, payload, qos, retain: false, dup: false } as const
    return new Promise((resolve, reject) =>
      this.#broker.publish({ ...packet, payload: Buffer.from(payload) }, (error) =>
        error ? reject(error) : resolve(),
      ),
    )
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
    await new Promise<void>((resolve) => this.#broker.close(() => resolve()))
  }
}
