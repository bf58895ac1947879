import { createServer, type Server, type Socket } from 'node:net'
import type { Aedes } from 'aedes'
import type { EventEmitter } from 'eventemitter3'
import type { Logger } from 'pino'
import type { TopicAcl } from './acl.js'
import { capBytesBeforeConnack } from './connect-guard.js'
import { Connections } from './connections.js'
import type { Admission } from './gateway/admission.js'
import type { DeviceRegistry } from './registry.js'
import { closeServer, listen, trackSockets } from './servers.js'
import type { Settings } from './start-options.js'
import type { StateStore } from './state/store.js'
import type { EmulatorEvents, EmulatorPublishOptions, UplinkContext } from './types.js'

export interface MqttFrontDeps {
  registry: DeviceRegistry
  acl: TopicAcl
  events: EventEmitter<EmulatorEvents>
  logger: Logger
  settings: Settings
  /** The gateway's admission of sub-device traffic (created after this front, hence a getter). */
  admission(): Admission
  /** Hands an admitted uplink to the services. */
  dispatch(ctx: UplinkContext): void
  /** The platform's shared state (scale-out) or the memory store. */
  store: StateStore
  /** A device's publish another node received (scale-out), for replies this node waits for. */
  onRemoteUplink(topic: string, payload: Buffer): void
}

/**
 * The emulator's MQTT side: aedes with the platform's hooks (CONNECT verification, ACL, `_ss=1`,
 * sub-device admission), its TCP server and the sockets to destroy at close.
 */
export class MqttFront {
  readonly connections: Connections
  readonly #broker: Aedes
  readonly #server: Server
  readonly #sockets: Set<Socket>

  constructor(broker: Aedes, deps: MqttFrontDeps) {
    const { settings, logger } = deps
    this.#broker = broker
    this.connections = new Connections({
      registry: deps.registry,
      acl: deps.acl,
      events: deps.events,
      logger,
      minKeepaliveSeconds: settings.minKeepaliveSeconds,
      registerCloseDelayMs: settings.registerCloseDelayMs,
      store: deps.store,
      onRemoteUplink: deps.onRemoteUplink,
      // A gateway's uplinks for its sub-devices reach the services only while they are logged in.
      onUplink: (ctx) => {
        if (deps.admission().admits(ctx)) deps.dispatch(ctx)
      },
    })
    Object.assign(broker, this.connections.hooks)
    const forward = this.connections.hooks.authorizeForward
    broker.authorizeForward = (client, packet) => {
      const allowed = forward(client, packet)
      return allowed && deps.admission().mayForward(client.id, allowed.topic) ? allowed : null
    }
    this.connections.attach(broker)
    broker.on('subscribe', (subs, client) => {
      // aedes reports a refused subscription with the SUBACK failure code 128 as its qos.
      const filters = subs.filter((s) => (s.qos as number) !== 128).map((s) => s.topic)
      if (filters.length > 0) deps.events.emit('client:subscribed', { clientId: client.id, filters })
    })
    // Nagle's algorithm stays on unless `noDelay` (as in Mosquitto's default `set_tcp_nodelay false`).
    this.#server = createServer({ noDelay: settings.noDelay }, (socket) => broker.handle(socket))
    this.#sockets = trackSockets(this.#server)
    capBytesBeforeConnack(this.#server, broker, logger)
  }

  /** Listens and resolves with the bound port. */
  listen(port: number, host: string): Promise<number> {
    return listen(this.#server, port, host)
  }

  /** Publishes as the platform, through the broker's routing and hooks. */
  publish(topic: string, payload: string | Uint8Array, options: EmulatorPublishOptions = {}): Promise<void> {
    const packet = {
      cmd: 'publish' as const,
      topic,
      payload: typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload),
      qos: options.qos ?? 0,
      retain: options.retain ?? false,
      dup: false,
    }
    return new Promise((resolve, reject) => {
      this.#broker.publish(packet, (error) => (error ? reject(error) : resolve()))
    })
  }

  /** Closes the broker, every client connection and the server. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#broker.close(() => resolve()))
    for (const socket of this.#sockets) socket.destroy()
    await closeServer(this.#server)
  }
}
