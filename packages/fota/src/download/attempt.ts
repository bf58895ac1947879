import type { Hash } from 'node:crypto'
import { type createLogger, LinkkitError } from '@linkkit/core'
import type { BodyRing } from './body-ring.js'
import { findLinkkitError, isCertificateError, SinkFailure, transportError } from './failures.js'
import { type FirmwareResponse, HttpGet } from './http-get.js'
import { RateFloor, stopError } from './limits.js'
import type { FirmwareSink, ResolvedDownload } from './options.js'
import { type BodyPlan, checkResponse } from './response-check.js'

/** Progress shared by the attempts of one download. Only bytes the sink accepted count as held. */
export interface DownloadState {
  received: number
  requests: number
  bytesReceived: number
}

export interface AttemptContext {
  cfg: Readonly<ResolvedDownload>
  /** The URL with its query string redacted, for messages and logs. */
  where: string
  sink: FirmwareSink
  hash: Hash
  state: DownloadState
  signal: AbortSignal | undefined
  onProgress: ((bytes: number, total: number) => void) | undefined
  log: ReturnType<typeof createLogger>
  /** The ring every exchange of this download reads into, when one is shared (`downloadInto`). */
  ring: BodyRing | undefined
}

/** `ok: true` when the response ended cleanly with progress; `ok: false` when a resume may help. */
export type AttemptOutcome = { ok: true } | { ok: false; error: LinkkitError }

/**
 * One GET from the bytes already held (`Range: bytes=<held>-`, or `<held>-<held+chunk-1>` in chunk
 * mode). Throws what no retry can fix (4xx, wrong size, abort, the sink's own error unchanged).
 */
export async function runAttempt(ctx: AttemptContext): Promise<AttemptOutcome> {
  const { cfg, state, signal } = ctx
  const start = state.received
  const last = cfg.chunkSizeBytes === undefined ? '' : Math.min(cfg.size, start + cfg.chunkSizeBytes) - 1
  const range = `bytes=${start}-${last}`
  state.requests += 1
  ctx.log.debug({ url: ctx.where, range, request: state.requests }, 'firmware GET')
  const get = new HttpGet({
    url: cfg.url,
    range,
    tls: cfg.tls,
    allowHttp: cfg.allowHttp,
    where: ctx.where,
    ring: ctx.ring,
  })
  let interrupt: LinkkitError | undefined
  const stop = (error: LinkkitError) => {
    interrupt ??= error
    get.destroy(error)
  }
  const idle = idleTimer(cfg.idleTimeoutMs, () =>
    stop(
      new LinkkitError(
        'ERR_DOWNLOAD_TIMEOUT',
        `firmware server ${ctx.where} sent nothing for ${cfg.idleTimeoutMs} ms`,
      ),
    ),
  )
  const onAbort = () => stop(stopError(signal as AbortSignal))
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    idle.arm()
    const response = await get.response()
    idle.disarm()
    const verdict = checkResponse(response.statusCode, response.headers, start, cfg.size, ctx.where)
    if (!verdict.ok) return verdict
    return await readBody(response, verdict.plan, ctx, idle)
  } catch (error) {
    if (error instanceof SinkFailure) throw error.error
    if (signal?.aborted) throw stopError(signal)
    if (interrupt !== undefined) return { ok: false, error: interrupt }
    const fatal = findLinkkitError(error)
    if (fatal !== undefined) throw fatal
    const failure = transportError(error, ctx.where)
    if (isCertificateError(failure)) throw failure
    return { ok: false, error: failure }
  } finally {
    idle.dispose()
    signal?.removeEventListener('abort', onAbort)
    if (!get.complete) get.destroy()
  }
}

async function readBody(
  response: FirmwareResponse,
  plan: BodyPlan,
  ctx: AttemptContext,
  idle: IdleTimer,
): Promise<AttemptOutcome> {
  const { cfg, state, signal } = ctx
  const heldBefore = state.received
  let position = plan.bodyStart
  const chunks = response.body
  const floor = new RateFloor(cfg.minBytesPerSecond, cfg.rateWindowMs)
  for (;;) {
    // The idle clock and the rate floor see only the waits for the network, never the sink's work.
    idle.arm()
    const waitStart = performance.now()
    const next = await chunks.next()
    idle.disarm()
    if (next.done === true) break
    const chunk = next.value
    floor.record(performance.now() - waitStart, chunk.length, ctx.where)
    const chunkStart = position
    position += chunk.length
    state.bytesReceived += chunk.length
    if (position > cfg.size) {
      throw new LinkkitError(
        'ERR_SIZE_MISMATCH',
        `firmware server ${ctx.where} sent more than ${cfg.size} bytes`,
        {
          details: { expected: cfg.size, served: position },
        },
      )
    }
    if (position <= state.received) continue
    const fresh = chunkStart < state.received ? chunk.subarray(state.received - chunkStart) : chunk
    ctx.hash.update(fresh)
    try {
      await ctx.sink(fresh, state.received)
      state.received += fresh.length
      ctx.onProgress?.(state.received, cfg.size)
    } catch (error) {
      throw new SinkFailure(error)
    }
    if (signal?.aborted) throw stopError(signal)
  }
  const announcedEnd = plan.announced === undefined ? undefined : plan.bodyStart + plan.announced
  if (announcedEnd !== undefined && position < announcedEnd) {
    const got = position - plan.bodyStart
    return retryable(`connection closed after ${got} of ${plan.announced} body bytes`, ctx.where)
  }
  if (state.received === heldBefore) return retryable('the response carried no new bytes', ctx.where)
  return { ok: true }
}

function retryable(why: string, where: string): AttemptOutcome {
  return {
    ok: false,
    error: new LinkkitError('ERR_DOWNLOAD_FAILED', `firmware download from ${where}: ${why}`),
  }
}

interface IdleTimer {
  /** Starts (or restarts) the clock: a wait for the network begins. */
  arm(): void
  /** Stops the clock: the wait is over. */
  disarm(): void
  /** Drops the timer for good (the attempt is over). */
  dispose(): void
}

/**
 * The idle clock is armed and disarmed around every network wait, thousands of times per image:
 * one Timeout is refreshed rather than a new one created each time, and a disarmed clock that
 * fires does nothing.
 */
function idleTimer(ms: number, onIdle: () => void): IdleTimer {
  let timer: NodeJS.Timeout | undefined
  let armed = false
  return {
    arm() {
      armed = true
      if (timer === undefined) {
        timer = setTimeout(() => {
          if (armed) onIdle()
        }, ms)
      } else timer.refresh()
    },
    disarm() {
      armed = false
    },
    dispose() {
      armed = false
      clearTimeout(timer)
      timer = undefined
    },
  }
}
