import { type AlinkRequest, LinkkitError } from '@linkkit/core'
import type { ThingContext } from './context.js'
import { isRecord } from './inbound.js'
import { DeviceReplyCodes } from './reply-codes.js'
import { answer, type ReplyTarget, refuse, sendReply } from './respond.js'

/** What a handler learns besides the params; `signal` aborts when its reply timed out or the client closed. */
export interface HandlerInfo {
  /** The Alink id of the request. */
  id: string
  /** Aborts when the reply timed out or the client closed: stop the work. */
  signal: AbortSignal
}

/** Applies a property set; resolving means applied (reply 200). Throw a `ServiceError` to answer a code. */
export type PropertySetHandler = (params: Record<string, unknown>, info: HandlerInfo) => void | Promise<void>

/** Returns the current values of the requested properties (3.x property get, docs/protocol.md §2.3). */
export type PropertyGetHandler = (
  identifiers: string[],
  info: HandlerInfo,
) => Record<string, unknown> | Promise<Record<string, unknown>>

function paramsError(message: string): LinkkitError {
  return new LinkkitError('ERR_MALFORMED_PAYLOAD', message)
}

/** The property set and property get downlinks. */
export class PropertyDownlinks {
  setHandler: PropertySetHandler | undefined
  getHandler: PropertyGetHandler | undefined
  readonly #ctx: ThingContext

  constructor(ctx: ThingContext) {
    this.#ctx = ctx
  }

  /**
   * `thing.service.property.set`: params checked against the writable properties of the model
   * (invalid → its 63xx code, handler not called), `property:set` emitted, the handler run, and
   * `set_reply` answered. Without a handler the set is accepted with 200, as 3.x auto-replies.
   */
  async set(target: ReplyTarget, request: AlinkRequest): Promise<void> {
    const ctx = this.#ctx
    const { params } = request
    try {
      if (ctx.thingModel)
        ctx.thingModel.validateProperties(params as Record<string, unknown>, {
          writableOnly: true,
        })
      else if (!isRecord(params)) throw paramsError('property set params must be a JSON object')
    } catch (error) {
      await refuse(ctx, target, error as LinkkitError)
      return
    }
    const values = params as Record<string, unknown>
    ctx.emit('property:set', { params: values, id: target.id })
    const handler = this.setHandler
    if (handler === undefined) {
      ctx.store.remember(values)
      await sendReply(ctx, target, DeviceReplyCodes.success)
      return
    }
    const ok = await answer(ctx, target, (signal) => handler(values, { id: target.id, signal }), {
      timeoutMs: ctx.options.replyTimeoutMs,
      what: 'property set handler',
    })
    if (ok) ctx.store.remember(values)
  }

  /**
   * `thing.service.property.get`: params are identifiers; answered by the handler, or from the
   * last posted or set values. An identifier with no known value is answered 460.
   */
  async get(target: ReplyTarget, request: AlinkRequest): Promise<void> {
    const ctx = this.#ctx
    const model = ctx.thingModel
    const { params } = request
    try {
      if (model) model.validateServiceInput('get', params)
      if (!Array.isArray(params) || !params.every((p) => typeof p === 'string')) {
        throw paramsError('property get params must be an array of identifiers')
      }
    } catch (error) {
      await refuse(ctx, target, error as LinkkitError)
      return
    }
    const ids = params as string[]
    const handler = this.getHandler
    if (handler !== undefined) {
      await answer(ctx, target, (signal) => handler([...ids], { id: target.id, signal }), {
        timeoutMs: ctx.options.replyTimeoutMs,
        validate: model ? (data) => model.validateServiceOutput('get', data) : undefined,
        what: 'property get handler',
      })
      return
    }
    const missing = ids.filter((id) => !ctx.store.has(id))
    if (missing.length > 0) {
      ctx.logger.warn({ topic: target.topic, missing }, 'property get for values never posted')
      await sendReply(ctx, target, DeviceReplyCodes.invalidParams, {}, `no value for ${missing.join(', ')}`)
      return
    }
    await sendReply(
      ctx,
      target,
      DeviceReplyCodes.success,
      Object.fromEntries(ids.map((id) => [id, ctx.store.get(id)])),
    )
  }
}
