import {
  checkOption,
  DEFAULT_INBOUND_LIMITS,
  functionRule,
  integerOption,
  objectRule,
  oneOfRule,
  requireOption,
} from '@linkkit/core'
import { parseThingModel, type ThingModel, type TslDocument } from './tsl/index.js'

/** Which RRPC form(s) of synchronous service calls a client answers (docs/protocol.md §2.3). */
export type RrpcMode = 'legacy' | 'ext' | 'both'

/** Options of `new ThingClient(connection, options)`. */
export interface ThingClientOptions {
  /**
   * The TSL: inbound params and outbound values are validated against it when given. A document
   * object is checked at construction; a path or `file:` URL of its JSON is read by `start()`
   * (which then rejects with `ERR_TSL_INVALID` when the file is unreadable or malformed).
   */
  thingModel?: ThingModel | TslDocument | string | URL
  /**
   * `legacy`: `/sys/${pk}/${dn}/rrpc/request/+`; `ext`: `/ext/rrpc/+/sys/${pk}/${dn}/...`, which the
   * platform only uses when the clientId carries `ext=1` (bit0, docs/protocol.md §1.5): pass
   * `clientIdExtensions: { ext: '1' }` to the `Connection`.
   * @default 'both'
   */
  rrpc?: RrpcMode
  /**
   * How long a handler may take before the cloud is answered 400 and an `error` is emitted. The
   * cloud waits about 7 s for a sync service (docs/protocol.md §2.3), so later answers reach no one.
   * `onService(id, handler, { timeoutMs })` overrides it per service (slow async services).
   * @default 5000
   */
  replyTimeoutMs?: number
  /**
   * Inbound messages larger than this are refused unparsed. The platform limits an MQTT message
   * to 256 KB, so nothing legitimate is larger.
   * @default 262144
   */
  maxPayloadBytes?: number
  /**
   * Deepest JSON nesting accepted in inbound `params`; a TSL value is at most an array of structs
   * (depth 3), so anything far deeper is hostile.
   * @default 32
   */
  maxDepth?: number
  /**
   * Cloud requests handled at once; more are answered 429 "too many requests" (docs/protocol.md §2.4)
   * so a flood cannot pile up handlers and timers.
   * @default 64
   */
  maxConcurrentRequests?: number
  /** Clock used by `ntp()`. @default Date.now */
  now?: () => number
}

/** `ThingClientOptions` after validation, with defaults filled in. */
export interface ResolvedThingClientOptions {
  /** The compiled model, or the file `start()` loads it from (see {@link ThingClientOptions.thingModel}). */
  thingModel: ThingModel | string | URL | undefined
  /** See {@link ThingClientOptions.rrpc}. */
  rrpc: RrpcMode
  /** See {@link ThingClientOptions.replyTimeoutMs}. */
  replyTimeoutMs: number
  /** See {@link ThingClientOptions.maxPayloadBytes}. */
  maxPayloadBytes: number
  /** See {@link ThingClientOptions.maxDepth}. */
  maxDepth: number
  /** See {@link ThingClientOptions.maxConcurrentRequests}. */
  maxConcurrentRequests: number
  /** See {@link ThingClientOptions.now}. */
  now: () => number
}

const DEFAULTS = Object.freeze({
  rrpc: 'both',
  replyTimeoutMs: 5000,
  maxPayloadBytes: DEFAULT_INBOUND_LIMITS.maxPayloadBytes,
  maxDepth: DEFAULT_INBOUND_LIMITS.maxDepth,
  maxConcurrentRequests: 64,
} as const)
const RRPC = oneOfRule(['legacy', 'ext', 'both'])

/** A document object is compiled now; a file is left for `start()` to read (no I/O here). */
function compileNow(source: ThingClientOptions['thingModel']): ThingModel | string | URL | undefined {
  if (source === undefined || typeof source === 'string' || source instanceof URL) return source
  return parseThingModel(source)
}

/** Validates options once; returns a new frozen object with the defaults filled in. */
export function resolveThingClientOptions(options: ThingClientOptions = {}): ResolvedThingClientOptions {
  requireOption(options, 'options', objectRule)
  const rrpc = requireOption(options.rrpc ?? DEFAULTS.rrpc, 'rrpc', RRPC)
  checkOption(options.now, 'now', functionRule, Date.now)
  return Object.freeze({
    thingModel: compileNow(options.thingModel),
    rrpc,
    replyTimeoutMs: integerOption(options.replyTimeoutMs, 'replyTimeoutMs', DEFAULTS.replyTimeoutMs),
    maxPayloadBytes: integerOption(options.maxPayloadBytes, 'maxPayloadBytes', DEFAULTS.maxPayloadBytes),
    maxDepth: integerOption(options.maxDepth, 'maxDepth', DEFAULTS.maxDepth),
    maxConcurrentRequests: integerOption(
      options.maxConcurrentRequests,
      'maxConcurrentRequests',
      DEFAULTS.maxConcurrentRequests,
    ),
    now: options.now ?? Date.now,
  })
}
