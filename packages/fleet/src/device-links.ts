import {
  type DeviceIdentity,
  deviceMqttOptions,
  LinkkitError,
  mqttClientError,
  type TlsOptions,
  Topics,
  toLinkkitError,
} from '@linkkit/core'
import type { connect, IClientSubscribeOptions, ISubscriptionGrant, MqttClient } from 'mqtt'
import { type BrokerEndpoint, brokerEndpoint, fleetClientOptions } from './client-options.js'
import { quietLog } from './mqtt-log.js'
import type { SimDevice } from './sim-device.js'

/** What the links tell their fleet. */
export interface LinkHost {
  /** CONNACK received and the subscriptions granted. */
  online(sim: SimDevice): void
  /** A connect attempt failed (refused, unreachable, closed before CONNACK, a refused subscription). */
  connectFailed(sim: SimDevice, error: LinkkitError): void
  /** An online device's connection dropped without the fleet asking. */
  lost(sim: SimDevice): void
  /** One inbound message of an online device. */
  message(sim: SimDevice, topic: string, payload: Buffer): void
  /** Something no promise reports: a socket error of an online device. */
  error(error: LinkkitError): void
  /** A fresh Alink id. */
  nextId(): string
}

/** Where and how every device of a fleet connects. */
export interface LinkSettings {
  /** MQTT.js's `connect`, loaded when the fleet starts (importing the package does not load MQTT.js). */
  connect: typeof connect
  url: string
  tls: TlsOptions | undefined
  keepaliveSeconds: number
  /** Whether MQTT.js's client logging is on (`mqttLogEnabled()`); while it is off a client gets `quietLog`. */
  mqttLog: () => boolean
}

/**
 * What a simulated device subscribes, in one SUBSCRIBE: the cloud's requests (property set and get,
 * async services; the echoes of its own `_reply` publishes are dropped), legacy RRPC (sync
 * services), its property post replies, and firmware pushes. All within its own topic space, as the
 * platform allows (docs/protocol.md §1.5 "Wildcards").
 */
export function fleetDeviceFilters(d: DeviceIdentity): string[] {
  return [
    Topics.sys(d, 'thing/service/#'),
    Topics.sys(d, 'rrpc/request/+'),
    Topics.reply(Topics.propertyPost(d)),
    Topics.otaUpgrade(d),
  ]
}

const SUBSCRIBE: IClientSubscribeOptions = { qos: 1 }
const INFORM: { qos: 1 } = { qos: 1 }

/**
 * The MQTT side of a fleet: one MQTT.js client per online device, signed as a `linkkit.open()`
 * device signs (core's `deviceMqttOptions`), and four listeners shared by every client (`this` is
 * the client; one map finds its device). A client's `error` listener stays until it is dropped,
 * so a socket error of a closing client is never an unheard one.
 */
export class DeviceLinks {
  readonly #settings: LinkSettings
  readonly #host: LinkHost
  readonly #endpoint: BrokerEndpoint | undefined
  readonly #byClient = new Map<MqttClient, SimDevice>()
  readonly #onConnect: (this: MqttClient) => void
  readonly #onClose: (this: MqttClient) => void
  readonly #onError: (this: MqttClient, error: Error) => void
  readonly #onMessage: (this: MqttClient, topic: string, payload: Buffer) => void

  constructor(settings: LinkSettings, host: LinkHost) {
    this.#settings = settings
    this.#host = host
    this.#endpoint = brokerEndpoint(settings.url)
    const links = this
    this.#onConnect = function (this: MqttClient) {
      links.#connected(this)
    }
    this.#onClose = function (this: MqttClient) {
      links.#closed(this)
    }
    this.#onError = function (this: MqttClient, error: Error) {
      links.#errored(this, error)
    }
    this.#onMessage = function (this: MqttClient, topic: string, payload: Buffer) {
      const sim = links.#byClient.get(this)
      if (sim !== undefined && sim.client === this && sim.status === 'online')
        host.message(sim, topic, payload)
    }
  }

  /** Opens the device's client; the host hears `online` or `connectFailed`. */
  connect(sim: SimDevice): void {
    const s = this.#settings
    let client: MqttClient
    try {
      const device = deviceMqttOptions({
        ...sim.triple,
        brokerUrl: s.url,
        keepaliveSeconds: s.keepaliveSeconds,
        ...(s.tls ? { tls: s.tls } : {}),
      })
      const log = s.mqttLog() ? undefined : quietLog
      const endpoint = this.#endpoint
      client =
        endpoint === undefined
          ? s.connect(s.url, { ...device, log })
          : s.connect(fleetClientOptions(device, endpoint, log))
    } catch (error) {
      this.#host.connectFailed(sim, toLinkkitError(error, 'ERR_CONNECTION'))
      return
    }
    sim.client = client
    this.#byClient.set(client, sim)
    client.on('connect', this.#onConnect)
    client.on('close', this.#onClose)
    client.on('error', this.#onError)
    client.on('message', this.#onMessage)
    client.connect()
  }

  /**
   * Ends the device's client: a DISCONNECT when it is connected with nothing unacknowledged, else
   * the socket is closed. Nothing of it reaches the host any more. Resolves once it is closed.
   */
  end(sim: SimDevice): Promise<void> | undefined {
    const client = sim.client
    if (client === undefined) return undefined
    this.#forget(sim, client)
    const force = !client.connected || Object.keys(client.outgoing).length > 0
    return new Promise((resolve) => client.end(force, () => resolve()))
  }

  #forget(sim: SimDevice, client: MqttClient): void {
    this.#byClient.delete(client)
    if (sim.client === client) sim.client = undefined
  }

  /** Drops a client that failed or closed (MQTT.js would otherwise arm its reconnect timer). */
  #drop(sim: SimDevice, client: MqttClient): void {
    this.#forget(sim, client)
    client.end(true)
  }

  #connected(client: MqttClient): void {
    const sim = this.#byClient.get(client)
    if (sim === undefined || sim.client !== client) return
    client.subscribe(fleetDeviceFilters(sim.triple), SUBSCRIBE, (error, granted) =>
      this.#subscribed(sim, client, error ?? undefined, granted),
    )
  }

  #subscribed(
    sim: SimDevice,
    client: MqttClient,
    error: Error | undefined,
    granted: ISubscriptionGrant[] | undefined,
  ): void {
    if (sim.client !== client || sim.status !== 'connecting') return
    const refused = granted?.find((g) => g.qos === 128)
    if (error !== undefined || refused !== undefined) {
      this.#drop(sim, client)
      const what = refused === undefined ? error?.message : `${refused.topic} was refused`
      this.#host.connectFailed(sim, new LinkkitError('ERR_SUBSCRIBE_FAILED', `subscribe failed: ${what}`))
      return
    }
    // The running version, at every connect (docs/protocol.md §3.2): it also ends a job whose image it runs.
    const inform = { id: this.#host.nextId(), params: { version: sim.version } }
    client.publish(Topics.otaInform(sim.triple), JSON.stringify(inform), INFORM)
    this.#host.online(sim)
  }

  #closed(client: MqttClient): void {
    const sim = this.#byClient.get(client)
    if (sim === undefined || sim.client !== client) {
      this.#byClient.delete(client)
      return
    }
    this.#drop(sim, client)
    if (sim.status === 'connecting')
      this.#host.connectFailed(sim, new LinkkitError('ERR_CONNECTION', 'connection closed before CONNACK'))
    else if (sim.status === 'online') this.#host.lost(sim)
  }

  #errored(client: MqttClient, error: Error): void {
    const sim = this.#byClient.get(client)
    // A client the fleet let go of: what it still reports (its dropped socket) is expected.
    if (sim === undefined || sim.client !== client) return
    const err = mqttClientError(error)
    if (sim.status === 'connecting') {
      this.#drop(sim, client)
      this.#host.connectFailed(sim, err)
      return
    }
    // An online device: its `close` follows, and the fleet reconnects it.
    this.#host.error(err)
  }
}
