import { type AlinkRequest, assertTopicSegment, LinkkitError } from '@linkkit/core'
import type { ThingContext } from './context.js'
import { isRecord } from './inbound.js'
import type { HandlerInfo } from './properties.js'
import { answer, type ReplyTarget, refuse } from './respond.js'

/** What a service handler learns besides its input. */
export interface ServiceInfo extends HandlerInfo {
  /** The service's identifier. */
  serviceId: string
  /** True for a synchronous (RRPC) call. */
  sync: boolean
}

/**
 * Runs a service; returns its `outputData` (or nothing for `{}`), sync or async. Throw a
 * `ServiceError` to answer a chosen code.
 */
export type ServiceHandler = (params: Record<string, unknown>, info: ServiceInfo) => unknown

/** Options of `onService`. */
export interface ServiceHandlerOptions {
  /** Overrides the client's `replyTimeoutMs` for this service (e.g. a slow async one). */
  timeoutMs?: number
}

interface Registered {
  handler: ServiceHandler
  timeoutMs: number | undefined
}

/** Async and sync service invocations (docs/protocol.md §2.3 "Service invoke"). */
export class ServiceDownlinks {
  readonly #handlers = new Map<string, Registered>()
  readonly #ctx: ThingContext

  constructor(ctx: ThingContext) {
    this.#ctx = ctx
  }

  /** Registers the handler of `serviceId`, replacing any earlier one; returns a function removing it. */
  register(serviceId: string, handler: ServiceHandler, options: ServiceHandlerOptions = {}): () => void {
    assertTopicSegment(serviceId, 'service identifier')
    if (typeof handler !== 'function')
      throw new LinkkitError('ERR_INVALID_ARGUMENT', 'handler must be a function')
    const { timeoutMs } = options
    if (timeoutMs !== undefined && (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1)) {
      throw new LinkkitError('ERR_INVALID_ARGUMENT', 'timeoutMs must be a positive integer')
    }
    const entry = { handler, timeoutMs }
    this.#handlers.set(serviceId, entry)
    return () => {
      if (this.#handlers.get(serviceId) === entry) this.#handlers.delete(serviceId)
    }
  }

  /**
   * Validates the input (a service missing from the model → 6300, invalid input → its 63xx code;
   * the handler is not called and an `error` is emitted), emits `service`, then runs the handler and
   * answers. A valid call with no handler is answered 6300 and reported as ERR_SERVICE_NOT_FOUND.
   */
  async invoke(target: ReplyTarget, serviceId: string, request: AlinkRequest, sync: boolean): Promise<void> {
    const ctx = this.#ctx
    const model = ctx.thingModel
    const { params } = request
    try {
      if (model) model.validateServiceInput(serviceId, params)
      if (!isRecord(params)) {
        throw new LinkkitError('ERR_MALFORMED_PAYLOAD', `service "${serviceId}" params must be a JSON object`)
      }
    } catch (error) {
      await refuse(ctx, target, error as LinkkitError)
      return
    }
    ctx.emit('service', { serviceId, params, id: target.id, sync })
    const entry = this.#handlers.get(serviceId)
    if (entry === undefined) {
      await refuse(
        ctx,
        target,
        new LinkkitError('ERR_SERVICE_NOT_FOUND', `no handler for service "${serviceId}"`, {
          details: { serviceId },
        }),
      )
      return
    }
    const info = { id: target.id, serviceId, sync }
    await answer(ctx, target, (signal) => entry.handler(params, { ...info, signal }), {
      timeoutMs: entry.timeoutMs ?? ctx.options.replyTimeoutMs,
      validate: model ? (data) => model.validateServiceOutput(serviceId, data) : undefined,
      what: `service "${serviceId}"`,
    })
  }
}
