import type { Logger } from 'pino'
import type { AlinkReply } from './alink.js'
import type { ConnectionState, Payload, PublishOptions, RequestOptions } from './connection-types.js'
import type { LinkkitError } from './errors.js'
import type { Qos } from './subscriptions.js'
import type { DeviceIdentity } from './topics.js'

/** Handles one inbound message routed to a session. */
export type SessionMessageHandler = (topic: string, payload: Buffer) => void

/**
 * Events every session emits. A device's `Connection` emits more (`reconnecting`); code written
 * against `Session` listens only to these.
 */
export interface SessionEvents {
  /** The session is up and its subscriptions are in place; `reconnect` is false the first time. */
  connected: (info: { sessionPresent: boolean; reconnect: boolean }) => void
  /** The session went down; `error` is set when it will not come back on its own. */
  disconnected: (info: { error?: LinkkitError }) => void
  /** Something no promise could report. Without a listener it is printed once per code as a `LinkkitWarning`. */
  error: (error: LinkkitError) => void
  /** Every inbound message of this session, raw, before it is routed. */
  message: (topic: string, payload: Buffer) => void
}

/**
 * One device's conversation with the platform, whatever carries it: its own MQTT connection
 * (`Connection`) or a gateway's connection on behalf of a logged-in sub-device. The thing model,
 * OTA and gateway code depend on this interface only, so each works the same for a device and a
 * sub-device.
 */
export interface Session extends DeviceIdentity {
  /** Where the session is. */
  readonly state: ConnectionState
  /** True while messages can be sent and received. */
  readonly connected: boolean
  /** The session's pino logger; components take children of it. */
  readonly logger: Logger
  /** How long a request waits for its reply when it names no timeout. */
  readonly requestTimeoutMs: number
  /** The QoS of Alink requests that name none (0 unless the device opted into 1). */
  readonly alinkQos: Qos
  /** A fresh Alink message id (decimal string). */
  nextId(): string
  /**
   * Wants `filter` on the broker (kept across reconnects) and, when given, routes its messages to
   * `handler`. The returned function undoes both.
   */
  subscribe(
    filter: string,
    handler?: SessionMessageHandler,
    options?: PublishOptions,
  ): Promise<() => Promise<void>>
  /** Routes matching inbound messages to `handler` without subscribing (for `_ss=1` server-side subscriptions). */
  route(filter: string, handler: SessionMessageHandler): () => void
  /** Publishes on `topic`. */
  publish(topic: string, payload: Payload, options?: PublishOptions): Promise<void>
  /** Sends an Alink request and resolves with its `_reply` (a non-200 code rejects with ERR_REPLY). */
  request<D = unknown>(topic: string, params: unknown, options?: RequestOptions): Promise<AlinkReply<D>>
  /** Answers a cloud request on `topic` with `{ id, code, data }`. */
  reply(topic: string, id: string, code: number, data?: unknown, message?: string): Promise<void>
  /** Listens to `connected`. */
  on(event: 'connected', listener: SessionEvents['connected']): this
  /** Listens to `disconnected`. */
  on(event: 'disconnected', listener: SessionEvents['disconnected']): this
  /** Listens to `error`. */
  on(event: 'error', listener: SessionEvents['error']): this
  /** Listens to `message`. */
  on(event: 'message', listener: SessionEvents['message']): this
  /** Stops listening to `connected`. */
  off(event: 'connected', listener: SessionEvents['connected']): this
  /** Stops listening to `disconnected`. */
  off(event: 'disconnected', listener: SessionEvents['disconnected']): this
  /** Stops listening to `error`. */
  off(event: 'error', listener: SessionEvents['error']): this
  /** Stops listening to `message`. */
  off(event: 'message', listener: SessionEvents['message']): this
  /** Listens once to `connected`. */
  once(event: 'connected', listener: SessionEvents['connected']): this
  /** Listens once to `disconnected`. */
  once(event: 'disconnected', listener: SessionEvents['disconnected']): this
  /** Listens once to `error`. */
  once(event: 'error', listener: SessionEvents['error']): this
  /** Listens once to `message`. */
  once(event: 'message', listener: SessionEvents['message']): this
}
