import { LinkkitError, toLinkkitError } from '@linkkit/core'
import type { ThingContext } from './context.js'
import { DeviceReplyCodes, ServiceError } from './reply-codes.js'

/** Where a cloud request came from and where its answer goes. */
export interface ReplyTarget {
  /** The request topic (named in errors). */
  topic: string
  replyTopic: string
  id: string
}

/** The error with `topic` set, keeping code, reply code and details. */
export function withTopic(error: LinkkitError, topic: string): LinkkitError {
  if (error.topic !== undefined) return error
  return new LinkkitError(error.code, error.message, {
    topic,
    cause: error,
    replyCode: error.replyCode,
    details: error.details,
  })
}

/** The reply code for a refusal or failure (see `DeviceReplyCodes`). */
export function replyCodeOf(error: unknown): number {
  if (error instanceof ServiceError) return error.replyCode ?? DeviceReplyCodes.internalError
  if (!(error instanceof LinkkitError)) return DeviceReplyCodes.internalError
  switch (error.code) {
    case 'ERR_TSL_VALIDATION':
    case 'ERR_TSL_UNKNOWN_IDENTIFIER': {
      const platformCode = error.details?.platformCode
      return typeof platformCode === 'number' ? platformCode : DeviceReplyCodes.invalidParams
    }
    case 'ERR_SERVICE_NOT_FOUND':
      return DeviceReplyCodes.methodNotExist
    case 'ERR_MALFORMED_PAYLOAD':
    case 'ERR_INVALID_ARGUMENT':
      return DeviceReplyCodes.invalidParams
    default:
      return DeviceReplyCodes.internalError
  }
}

/** Publishes `{ id, code, data }`; a failure becomes an `error` event, never a rejection. */
export async function sendReply(
  ctx: ThingContext,
  target: ReplyTarget,
  code: number,
  data: unknown = {},
  message?: string,
): Promise<void> {
  if (ctx.closed) return
  if (target.replyTopic.startsWith('/ext/rrpc/')) ctx.echoes.expect(target.replyTopic)
  try {
    await ctx.connection.reply(target.replyTopic, target.id, code, data, message)
  } catch (error) {
    ctx.report(withTopic(toLinkkitError(error, 'ERR_PUBLISH_FAILED'), target.replyTopic))
  }
}

/** Answers a request that was refused before any handler ran, and reports why. */
export function refuse(ctx: ThingContext, target: ReplyTarget, error: LinkkitError): Promise<void> {
  ctx.report(withTopic(error, target.topic))
  return sendReply(ctx, target, replyCodeOf(error), {}, error.message)
}

/** The message of a thrown value, whatever was thrown. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown; timedOut: boolean }

/** Runs a user handler; a throw, a rejection or no answer within `timeoutMs` become a failed result. */
export async function runHandler<T>(
  fn: (signal: AbortSignal) => T | Promise<T>,
  timeoutMs: number,
): Promise<Settled<Awaited<T>>> {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<Settled<Awaited<T>>>((resolve) => {
    timer = setTimeout(() => {
      const error = new LinkkitError('ERR_REQUEST_TIMEOUT', `handler did not answer within ${timeoutMs} ms`)
      controller.abort(error)
      resolve({ ok: false, error, timedOut: true })
    }, timeoutMs)
    timer.unref()
  })
  const work = (async (): Promise<Settled<Awaited<T>>> => {
    try {
      return { ok: true, value: await fn(controller.signal) }
    } catch (error) {
      return { ok: false, error, timedOut: false }
    }
  })()
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

export interface AnswerOptions {
  timeoutMs: number
  /** Checks the handler's output against the thing model; throws ERR_TSL_* when it does not fit. */
  validate?: (data: unknown) => void
  /** Names the handler in errors, e.g. `service "wakeup"`. */
  what: string
}

/**
 * Runs a handler and answers the cloud with its output (200), the code of a `ServiceError`, the
 * platform code when the output fails the thing model, or 400 when it throws or times out. Every
 * failure except a deliberate `ServiceError` is also reported as an `error` event.
 */
export async function answer(
  ctx: ThingContext,
  target: ReplyTarget,
  fn: (signal: AbortSignal) => unknown,
  options: AnswerOptions,
): Promise<boolean> {
  const result = await runHandler(fn, options.timeoutMs)
  if (ctx.closed) return false
  if (result.ok) {
    const data = result.value ?? {}
    try {
      options.validate?.(data)
    } catch (error) {
      const err = toLinkkitError(error, 'ERR_TSL_VALIDATION')
      await refuse(
        ctx,
        target,
        new LinkkitError(err.code, `${options.what} output: ${err.message}`, {
          cause: err,
          details: err.details,
        }),
      )
      return false
    }
    await sendReply(ctx, target, DeviceReplyCodes.success, data)
    return true
  }
  const code = replyCodeOf(result.error)
  if (result.error instanceof ServiceError) {
    ctx.logger.info({ topic: target.topic, code }, `${options.what} answered with an error code`)
    await sendReply(ctx, target, code, {}, result.error.message)
    return false
  }
  const reason = result.timedOut ? 'timed out' : `threw: ${describeError(result.error)}`
  ctx.report(
    new LinkkitError('ERR_SERVICE', `${options.what} ${reason}`, {
      topic: target.topic,
      replyCode: code,
      cause: result.error,
      details: { id: target.id, timedOut: result.timedOut },
    }),
  )
  await sendReply(
    ctx,
    target,
    code,
    {},
    result.timedOut ? 'device handler timed out' : 'device internal error',
  )
  return false
}
