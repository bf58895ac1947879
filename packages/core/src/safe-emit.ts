import type { EventEmitter } from 'eventemitter3'
import type { Logger } from 'pino'
import type { LinkkitError } from './errors.js'

/** The `type` of the process warnings linkkit emits; `process.on('warning')` can tell them apart by it. */
export const LINKKIT_WARNING = 'LinkkitWarning'

/** The warning `code` of a listener that threw (an unheard `error` event carries the error's own code). */
export const LISTENER_THREW = 'LINKKIT_LISTENER_THREW'

/** What an emitter of `error` events offers: every linkkit emitter declares `error: (error: LinkkitError) => void`. */
export interface ErrorEventTarget {
  /** Listeners of `error`. */
  listenerCount(event: 'error'): number
  /** Emits `error`. */
  emit(event: 'error', error: LinkkitError): boolean
}

/** An emitter whose `error` events another one passes on. */
export interface ErrorEventSource extends ErrorEventTarget {
  /** Adds an `error` listener. */
  on(event: 'error', listener: (error: LinkkitError) => void): unknown
}

const warned = new WeakMap<object, Set<string>>()

/**
 * Tells the user on stderr, through `process.emitWarning`, once per emitter and key. A warning
 * rather than Node's throw: a device must not crash on input it did not choose (a malformed
 * downlink, a refused offer), yet the failure must not vanish. `--no-warnings` or a
 * `process.on('warning')` listener take it over; an `error` listener makes it unnecessary.
 */
function warnOnce(emitter: object, key: string, message: string, code: string, detail: string): void {
  let keys = warned.get(emitter)
  if (keys === undefined) {
    keys = new Set()
    warned.set(emitter, keys)
  }
  if (keys.has(key)) return
  keys.add(key)
  process.emitWarning(message, { type: LINKKIT_WARNING, code, detail })
}

/** `Device a1Pk/dev-1`, `FotaClient`: which object the warning is about. */
function describe(emitter: object): string {
  const name = emitter.constructor?.name || 'emitter'
  const { productKey, deviceName } = emitter as { productKey?: unknown; deviceName?: unknown }
  return typeof productKey === 'string' && typeof deviceName === 'string'
    ? `${name} ${productKey}/${deviceName}`
    : name
}

function listenerThrew(emitter: object, event: string, thrown: unknown, logger: Logger | undefined): void {
  const reason = thrown instanceof Error ? thrown.message : String(thrown)
  logger?.error({ event, err: reason }, 'a listener threw')
  warnOnce(
    emitter,
    `listener:${event}`,
    `${describe(emitter)}: a '${event}' listener threw: ${reason}`,
    LISTENER_THREW,
    'linkkit caught it so the protocol state stays sound; catch errors inside your listener.',
  )
}

/**
 * Emits `error`. When nobody listens (and `heard` is false: no listener of the emitter it was passed
 * on from heard it either), the error still reaches the user: a `LinkkitWarning` on stderr, the
 * first time per emitter and code. A listener that throws is caught, logged and warned about.
 */
export function emitError(
  emitter: ErrorEventTarget,
  error: LinkkitError,
  logger?: Logger,
  heard = false,
): void {
  if (emitter.listenerCount('error') === 0) {
    if (heard) return
    warnOnce(
      emitter,
      `error:${error.code}`,
      `${describe(emitter)}: unhandled 'error' event: ${error.message}`,
      error.code,
      "Listen for 'error' on this object to handle it; docs/errors.md explains each code.",
    )
    return
  }
  try {
    emitter.emit('error', error)
  } catch (thrown) {
    listenerThrew(emitter, 'error', thrown, logger)
  }
}

/**
 * Emits `event` so that no listener can break the caller (the protocol handling that emits): a
 * listener that throws is logged and warned about once, and its error is returned. `error` events go
 * through `emitError`, so an unheard one is never lost.
 */
export function safeEmit<
  Events extends EventEmitter.ValidEventTypes,
  E extends EventEmitter.EventNames<Events>,
>(
  emitter: EventEmitter<Events>,
  logger: Logger | undefined,
  event: E,
  ...args: EventEmitter.EventArgs<Events, E>
): unknown {
  if (event === 'error') {
    emitError(emitter as unknown as ErrorEventTarget, args[0] as LinkkitError, logger)
    return undefined
  }
  try {
    emitter.emit(event, ...args)
    return undefined
  } catch (thrown) {
    listenerThrew(emitter, String(event), thrown, logger)
    return thrown
  }
}

/**
 * Passes every `error` of `from` on to `to` (a Device its connection's, thing client's and FOTA
 * client's). An error a listener of `from` itself heard is not reported as unheard on `to`.
 */
export function forwardErrors(from: ErrorEventSource, to: ErrorEventTarget, logger?: Logger): void {
  from.on('error', (error) => emitError(to, error, logger, from.listenerCount('error') > 1))
}
