import type { MqttClient } from 'mqtt'
import type { Logger } from 'pino'
import { backoffDelay } from './backoff.js'
import { mqttClientOptions } from './client-options.js'
import { mqttClientError } from './connack.js'
import type { ConnectionEvents, ConnectionState } from './connection-types.js'
import { payloadBytes } from './connection-types.js'
import { LinkkitError, toLinkkitError } from './errors.js'
import type { ResolvedConnectionOptions } from './options.js'
import type { Qos } from './subscriptions.js'

/** What the link tells its `Connection`: its state, the lifecycle events, inbound messages, errors. */
export interface LinkHooks {
  /** The state changed (the connection tells its session where the link is). */
  state(state: ConnectionState): void
  /** A fresh session (or a first connect) needs the broker subscriptions made again. */
  restore(client: MqttClient): Promise<void>
  /** The `connected`, `disconnected` and `reconnecting` events of the connection. */
  connected(info: Parameters<ConnectionEvents['connected']>[0]): void
  disconnected(info: Parameters<ConnectionEvents['disconnected']>[0]): void
  reconnecting(info: Parameters<ConnectionEvents['reconnecting']>[0]): void
  /** One inbound message. */
  message(topic: string, payload: Buffer): void
  /** Something no promise could report. */
  report(error: LinkkitError, topic?: string): void
  /** The link is gone for good: whatever waits on it must be refused with `error`. */
  rejectAll(error: LinkkitError): void
}

/**
 * The life of one MQTT.js client: the first connect within `connectTimeoutMs`, CONNACK and the
 * subscriptions restored, the reconnect loop with jittered backoff, giving up when the platform
 * refuses the device, and the graceful end. The `Connection` owns one and adds the session on top.
 */
export class MqttLink {
  #client: MqttClient | undefined
  #state: ConnectionState = 'idle'
  #attempt = 0
  #everConnected = false
  #reconnectTimer: NodeJS.Timeout | undefined
  #settleConnect: ((error?: LinkkitError) => void) | undefined
  readonly #options: Readonly<ResolvedConnectionOptions>
  readonly #logger: Logger
  readonly #hooks: LinkHooks

  constructor(options: Readonly<ResolvedConnectionOptions>, logger: Logger, hooks: LinkHooks) {
    this.#options = options
    this.#logger = logger
    this.#hooks = hooks
  }

  get state(): ConnectionState {
    return this.#state
  }

  /** The client while the session is up, for subscribing on the broker. */
  get client(): MqttClient | undefined {
    return this.#state === 'connected' ? this.#client : undefined
  }

  /** Whether a first connect is under way. */
  get connecting(): boolean {
    return this.#settleConnect !== undefined
  }

  #setState(state: ConnectionState): void {
    this.#state = state
    this.#hooks.state(state)
  }

  /** Ends the pending first connect now: resolves it, or rejects it with `error`. */
  settle(error?: LinkkitError): void {
    this.#settleConnect?.(error)
  }

  /** The first connect: resolves once CONNACK arrived and the subscriptions are acknowledged. */
  async open(): Promise<void> {
    this.#setState('connecting')
    const options = this.#options
    const done = new Promise<void>((resolve, reject) => {
      this.#settleConnect = (error) => (error ? reject(error) : resolve())
    })
    // Armed first, before MQTT.js arms its CONNACK timer of the same length, so this one decides
    // and the attempt takes connectTimeoutMs, no more.
    const timer = setTimeout(() => {
      this.settle(
        new LinkkitError('ERR_CONNECT_TIMEOUT', `not connected within ${options.connectTimeoutMs} ms`),
      )
    }, options.connectTimeoutMs)
    let client: MqttClient | undefined
    try {
      const { credentials, mqttOptions } = mqttClientOptions(options)
      this.#logger.debug({ brokerUrl: options.brokerUrl, clientId: credentials.clientId }, 'connecting')
      // MQTT.js is loaded on the first connect, not at import: a process that only uses the rest of
      // linkkit (the CLI's key and OTA commands, a firmware download) does not pay its ~14 MiB of RSS.
      const { connect: mqttConnect } = await import('mqtt')
      // close() may have run while MQTT.js loaded (TypeScript does not see the await change #state).
      if ((this.#state as ConnectionState) === 'closed') {
        throw new LinkkitError('ERR_CLOSED', 'connection was closed')
      }
      const created = mqttConnect(options.brokerUrl, mqttOptions)
      client = created
      this.#client = created
      created.on('connect', (connack) => void this.#onConnect(created, connack.sessionPresent === true))
      created.on('message', (topic, payload) => this.#hooks.message(topic, payload))
      created.on('error', (error) => this.#onClientError(error))
      created.on('close', () => this.#onClose(created))
      created.connect()
      await done
    } catch (error) {
      this.#setState('failed')
      client?.end(true)
      throw error
    } finally {
      clearTimeout(timer)
      this.#settleConnect = undefined
    }
  }

  async #onConnect(client: MqttClient, sessionPresent: boolean): Promise<void> {
    const reconnect = this.#everConnected
    this.#attempt = 0
    try {
      if (!sessionPresent || !reconnect) await this.#hooks.restore(client)
    } catch (error) {
      const err = toLinkkitError(error, 'ERR_SUBSCRIBE_FAILED')
      if (!reconnect) {
        this.settle(err)
        return
      }
      this.#hooks.report(err)
    }
    if (this.#client !== client || !client.connected) return
    if (this.#state !== 'connecting' && this.#state !== 'reconnecting') return
    this.#everConnected = true
    this.#setState('connected')
    this.#logger.info({ sessionPresent, reconnect }, 'connected')
    this.settle()
    this.#hooks.connected({ sessionPresent, reconnect })
  }

  #onClientError(error: Error & { code?: unknown }): void {
    const err = mqttClientError(error)
    this.#logger.debug({ code: err.code, err: error.message }, 'mqtt error')
    if (this.#settleConnect) {
      this.#settleConnect(err)
      return
    }
    if (err.code === 'ERR_CONNACK_BAD_CREDENTIALS' || err.code === 'ERR_CONNACK_NOT_AUTHORIZED') {
      // The platform refused who we are: retrying would only hammer it (and the C SDK gives up too).
      this.#fail(err)
      return
    }
    this.#hooks.report(err)
  }

  #onClose(client: MqttClient): void {
    if (this.#client !== client) return
    if (this.#state === 'closed' || this.#state === 'failed' || this.#state === 'idle') return
    if (this.#state === 'connecting') {
      this.settle(new LinkkitError('ERR_CONNECTION', 'connection closed before CONNACK'))
      return
    }
    if (this.#state === 'connected') {
      this.#setState('reconnecting')
      this.#logger.warn('disconnected')
      this.#hooks.disconnected({})
    }
    if (!this.#options.reconnect.enabled) {
      this.#fail(new LinkkitError('ERR_CONNECTION', 'connection lost and reconnect is disabled'))
      return
    }
    this.#scheduleReconnect()
  }

  #scheduleReconnect(): void {
    if (this.#reconnectTimer) return
    this.#attempt++
    const delayMs = backoffDelay(this.#attempt, this.#options.reconnect)
    this.#hooks.reconnecting({ attempt: this.#attempt, delayMs })
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined
      const client = this.#client
      if (!client || this.#state !== 'reconnecting') return
      // Keep the stores: QoS1 messages in flight when the link dropped are resent on the new connection.
      client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore })
    }, delayMs)
  }

  #fail(error: LinkkitError): void {
    this.#setState('failed')
    clearTimeout(this.#reconnectTimer)
    this.#reconnectTimer = undefined
    this.#client?.end(true)
    this.#hooks.rejectAll(error)
    this.#hooks.report(error)
    this.#hooks.disconnected({ error })
  }

  /** Why a publish on `topic` cannot go now. */
  refusal(topic: string): LinkkitError {
    if (this.#state === 'closed') return new LinkkitError('ERR_CLOSED', 'connection was closed', { topic })
    return new LinkkitError('ERR_NOT_CONNECTED', `cannot publish to ${topic}: ${this.#state}`, { topic })
  }

  /** Hands one message to MQTT.js: `resolve` on PUBACK (QoS 1) or once written (QoS 0). */
  send(
    topic: string,
    payload: string | Uint8Array,
    qos: Qos,
    resolve: () => void,
    reject: (error: LinkkitError) => void,
  ): void {
    const client = this.#client
    if (!client) {
      reject(this.refusal(topic))
      return
    }
    const bytes = typeof payload === 'string' ? payload : payloadBytes(payload)
    client.publish(topic, bytes, { qos }, (error) => {
      if (error) reject(new LinkkitError('ERR_PUBLISH_FAILED', error.message, { topic, cause: error }))
      else resolve()
    })
  }

  /** Marks the link closed and stops the reconnect loop; `end()` then takes the client down. */
  halt(): void {
    this.#setState('closed')
    clearTimeout(this.#reconnectTimer)
    this.#reconnectTimer = undefined
  }

  /** Ends the client: a graceful DISCONNECT, but never waiting long on a dead link. */
  async end(): Promise<void> {
    const client = this.#client
    if (!client) return
    let timer: NodeJS.Timeout | undefined
    const force = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 2000)
      timer.unref()
    })
    await Promise.race([client.endAsync(false), force])
    clearTimeout(timer)
    if (!client.disconnected) await client.endAsync(true)
  }
}
