import { LinkkitError, Topics } from '@linkkit/core'
import type { ThingContext } from './context.js'
import { isRecord, readJson } from './inbound.js'

/** The cloud's time as one NTP exchange measured it. */
export interface NtpResult {
  /** Server time at the moment the response arrived, in ms since the epoch. */
  serverTimeMs: number
  /** `serverTimeMs` minus the local clock at arrival: add it to local time to get server time. */
  offsetMs: number
  /** Time on the wire both ways (excluding the server's own processing). */
  roundTripMs: number
}

/** Options of `ntp()`. */
export interface NtpOptions {
  /** @default the connection's requestTimeoutMs */
  timeoutMs?: number
  /** Cancels the wait (`ERR_ABORTED`). */
  signal?: AbortSignal
}

interface Waiter {
  sentAt: number
  settle: (result: NtpResult | LinkkitError) => void
}

/**
 * The server time for `deviceSendTime` `t0`, arrival `t3` and the server's receive/send times:
 * "(serverRecvTime + serverSendTime + deviceRecvTime − deviceSendTime) / 2" (docs/protocol.md §2.3).
 */
export function ntpTime(t0: number, serverRecv: number, serverSend: number, t3: number): NtpResult {
  const serverTimeMs = (serverRecv + serverSend + t3 - t0) / 2
  return { serverTimeMs, offsetMs: serverTimeMs - t3, roundTripMs: t3 - t0 - (serverSend - serverRecv) }
}

function msField(body: Record<string, unknown>, key: string): number | undefined {
  const v = body[key]
  const n = typeof v === 'string' && /^\d{1,16}$/.test(v) ? Number(v) : v
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined
}

/** `/ext/ntp/${pk}/${dn}/request` → `/response`, correlated by the echoed `deviceSendTime`. */
export class NtpClient {
  readonly #ctx: ThingContext
  /** Made on the first request: most devices never ask for the time. */
  #waiters: Map<string, Waiter> | undefined

  constructor(ctx: ThingContext) {
    this.#ctx = ctx
  }

  async request(options: NtpOptions = {}): Promise<NtpResult> {
    const { connection, options: o } = this.#ctx
    const topic = Topics.ntpRequest(connection)
    const timeoutMs = options.timeoutMs ?? connection.requestTimeoutMs
    const { signal } = options
    if (signal?.aborted)
      throw new LinkkitError('ERR_ABORTED', 'ntp request aborted', { cause: signal.reason })
    const sentAt = o.now()
    // The echo is the only correlation: keep the key unique when two requests share a millisecond.
    this.#waiters ??= new Map()
    const waiters = this.#waiters
    let key = sentAt
    while (waiters.has(String(key))) key++
    const id = String(key)
    const result = new Promise<NtpResult>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          settle(
            new LinkkitError('ERR_REQUEST_TIMEOUT', `no NTP response within ${timeoutMs} ms`, { topic }),
          ),
        timeoutMs,
      )
      timer.unref()
      const onAbort = () => settle(new LinkkitError('ERR_ABORTED', 'ntp request aborted', { topic }))
      signal?.addEventListener('abort', onAbort, { once: true })
      const settle = (outcome: NtpResult | LinkkitError) => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        waiters.delete(id)
        if (outcome instanceof LinkkitError) reject(outcome)
        else resolve(outcome)
      }
      waiters.set(id, { sentAt, settle })
    })
    // QoS 0 as the C SDKs: a time request queued while offline would measure the queue, not the link.
    connection.publish(topic, { deviceSendTime: id }, { qos: 0 }).catch((error: unknown) => {
      waiters
        .get(id)
        ?.settle(
          error instanceof LinkkitError ? error : new LinkkitError('ERR_PUBLISH_FAILED', String(error)),
        )
    })
    return result
  }

  onResponse(topic: string, payload: Buffer): void {
    const ctx = this.#ctx
    const json = readJson(topic, payload, ctx.options)
    if (!json.ok) {
      ctx.report(json.error)
      return
    }
    const { body } = json
    const recv = isRecord(body) ? msField(body, 'serverRecvTime') : undefined
    const send = isRecord(body) ? msField(body, 'serverSendTime') : undefined
    const echo = isRecord(body) ? body.deviceSendTime : undefined
    if (recv === undefined || send === undefined || (typeof echo !== 'string' && typeof echo !== 'number')) {
      ctx.report(
        new LinkkitError('ERR_MALFORMED_PAYLOAD', `NTP response on ${topic} lacks its times`, { topic }),
      )
      return
    }
    const waiter = this.#waiters?.get(String(echo))
    if (waiter === undefined) {
      ctx.logger.debug({ topic, deviceSendTime: echo }, 'NTP response for no waiting request')
      return
    }
    waiter.settle(ntpTime(waiter.sentAt, recv, send, ctx.options.now()))
  }

  rejectAll(error: LinkkitError): void {
    if (this.#waiters === undefined) return
    for (const waiter of [...this.#waiters.values()]) waiter.settle(error)
  }
}
