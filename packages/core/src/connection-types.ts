import type { LinkkitError } from './errors.js'
import type { Qos } from './subscriptions.js'

/** Events of a `Connection` (eventemitter3). */
export interface ConnectionEvents {
  /** CONNACK received and every subscription acknowledged; `reconnect` is false on the first connect. */
  connected: (info: { sessionPresent: boolean; reconnect: boolean }) => void
  /** The connection dropped; `error` is set when it will not come back (the platform refused the device, or reconnect is off). */
  disconnected: (info: { error?: LinkkitError }) => void
  /** A reconnect attempt is scheduled after `delayMs`. */
  reconnecting: (info: { attempt: number; delayMs: number }) => void
  /** Something no promise could report: a refused reconnect, a malformed inbound message, a failed resubscription. Without a listener it is printed once per code as a `LinkkitWarning` (docs/errors.md). */
  error: (error: LinkkitError) => void
  /** Every inbound message, raw, before it is routed. */
  message: (topic: string, payload: Buffer) => void
}

/** Where a connection is; `failed` is final (the first connect failed, the platform refused the device, or the link dropped with reconnect off). */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed' | 'failed'

/** What `publish` accepts: text, bytes, or a value sent as JSON. */
export type Payload = string | Uint8Array | Record<string, unknown> | unknown[]

/** Options of `publish`. */
export interface PublishOptions {
  /** @default 1 */
  qos?: Qos
  /**
   * While the connection is (re)connecting: `true` waits in the bounded offline queue and is sent
   * in order once the session is back; `false` rejects at once with `ERR_NOT_CONNECTED`. A closed
   * or failed connection (and one never connected) always rejects.
   * @default true for QoS 1, false for QoS 0
   */
  queueOffline?: boolean
  /**
   * Withdraws the publish while it still waits in the offline queue: it rejects with
   * `ERR_ABORTED` and is never sent (an already aborted signal rejects at once). No effect once
   * the publish left for the broker.
   */
  signal?: AbortSignal
}

/** Options of `request`. */
export interface RequestOptions {
  /** Alink method; omitted from the payload when undefined. */
  method?: string
  /** @default the connection's requestTimeoutMs */
  timeoutMs?: number
  /** Cancels the wait; the request then rejects with `ERR_ABORTED`. */
  signal?: AbortSignal
  /** `0` asks the cloud not to reply: the promise resolves once sent with no reply. @default 1 */
  ack?: 0 | 1
  /**
   * QoS of the request. The `_reply` is the acknowledgement, so requests go at QoS 0 as the C SDK
   * sends them; QoS 1 adds a PUBACK (and a resend after a reconnect) per request.
   * @default the connection's `alinkQos` (0 unless set)
   */
  qos?: Qos
  /**
   * While the connection is (re)connecting the request waits in the offline queue (whatever its
   * QoS) and is sent once the session is back; its timeout keeps running, and a request that timed
   * out or was aborted before it left the queue is never sent. `false` rejects at once with
   * `ERR_NOT_CONNECTED` instead. @default true
   */
  queueOffline?: boolean
}

/** Bytes of a payload: text as UTF-8, bytes as they are, anything else as JSON. */
export function payloadBytes(payload: Payload): Buffer {
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8')
  if (payload instanceof Uint8Array)
    return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  return Buffer.from(JSON.stringify(payload), 'utf8')
}
