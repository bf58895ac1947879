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
  /** @default 1 */
  qos?: Qos
}

/** Bytes of a payload: text as UTF-8, bytes as they are, anything else as JSON. */
export function payloadBytes(payload: Payload): Buffer {
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8')
  if (payload instanceof Uint8Array)
    return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  return Buffer.from(JSON.stringify(payload), 'utf8')
}
