import { type AlinkReply, assertTopicSegment, LinkkitError, Topics } from '@linkkit/core'
import type { ThingContext } from './context.js'
import { isRecord } from './inbound.js'

/** Options of every uplink that waits for the cloud's `_reply`. */
export interface PostOptions {
  /** `0`: the cloud sends no reply and the call resolves once sent (docs/protocol.md §2.1 `sys.ack`). @default 1 */
  ack?: 0 | 1
  /** @default the connection's requestTimeoutMs */
  timeoutMs?: number
  /** Cancels the wait (`ERR_ABORTED`); a post still waiting in the offline queue is then never sent. */
  signal?: AbortSignal
  /**
   * QoS 1 for this call only. The `_reply` is the acknowledgement, so posts go at QoS 0 as the C
   * SDK sends them. @default the connection's `alinkQos` (0 unless `alinkQos: 1` was given)
   */
  qos?: 0 | 1
  /**
   * While reconnecting the post waits in the offline queue (its timeout keeps running) and is sent
   * after the reconnect; `false` rejects at once with `ERR_NOT_CONNECTED`. @default true
   */
  queueOffline?: boolean
}

/** A property value with the time it was sampled (ms since the epoch). */
export interface PropertySample {
  /** The value. */
  value: unknown
  /** When it was sampled, ms since the epoch; the arrival time when absent. */
  time?: number
}

/** Cloud limit per message: "map size must less than 200" (docs/protocol.md §2.3, code 6106). */
export const MAX_PROPERTIES_PER_POST = 200

export function invalidArgument(message: string): LinkkitError {
  return new LinkkitError('ERR_INVALID_ARGUMENT', message)
}

/** Sends an Alink request; `ack: 0` resolves once sent. */
export function send(
  ctx: ThingContext,
  topic: string,
  method: string,
  params: unknown,
  options: PostOptions = {},
): Promise<AlinkReply> {
  if (ctx.closed) return Promise.reject(new LinkkitError('ERR_CLOSED', 'the thing client was closed'))
  if (options.ack !== undefined && options.ack !== 0 && options.ack !== 1) {
    return Promise.reject(invalidArgument('ack must be 0 or 1'))
  }
  if (options.qos !== undefined && options.qos !== 0 && options.qos !== 1) {
    return Promise.reject(invalidArgument('qos must be 0 or 1'))
  }
  return ctx.connection.request(topic, params, {
    method,
    ack: options.ack,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    qos: options.qos,
    queueOffline: options.queueOffline,
  })
}

function checkPropertyMap(props: unknown, what: string): asserts props is Record<string, unknown> {
  if (!isRecord(props)) throw invalidArgument(`${what} must be an object of identifier → value`)
  const count = Object.keys(props).length
  if (count === 0) throw invalidArgument(`${what} is empty`)
  if (count > MAX_PROPERTIES_PER_POST) {
    throw invalidArgument(
      `${what} has ${count} properties; the cloud accepts at most ${MAX_PROPERTIES_PER_POST}`,
    )
  }
}

/**
 * `thing.event.property.post`: validated against the model before anything is sent. A plain
 * function on the hot path (no async frame); a refusal still comes as a rejection.
 */
export function postProperties(
  ctx: ThingContext,
  props: Record<string, unknown>,
  options?: PostOptions,
): Promise<AlinkReply> {
  try {
    checkPropertyMap(props, 'properties')
    ctx.thingModel?.validateProperties(props)
    const reply = send(ctx, Topics.propertyPost(ctx.connection), 'thing.event.property.post', props, options)
    ctx.store.remember(props)
    return reply
  } catch (error) {
    return Promise.reject(error)
  }
}

/** Events whose topic is taken by the property post (`thing/event/property/post`, built-in `post`). */
const RESERVED_EVENTS = new Set(['property', 'post'])

/** `thing.event.${eventId}.post`: params bare or `{ value, time }`, as the cloud accepts both. */
export async function postEvent(
  ctx: ThingContext,
  eventId: string,
  params: unknown,
  options?: PostOptions,
): Promise<AlinkReply> {
  assertTopicSegment(eventId, 'event identifier')
  if (RESERVED_EVENTS.has(eventId))
    throw invalidArgument(`event "${eventId}" is the property post: use postProperties`)
  if (!isRecord(params)) throw invalidArgument('event params must be an object')
  ctx.thingModel?.validateEventParams(eventId, params)
  return send(ctx, Topics.eventPost(ctx.connection, eventId), `thing.event.${eventId}.post`, params, options)
}

/** Params of `postBatch`: samples per property and per event (docs/protocol.md §2.3 "Batch post"). */
export interface BatchPost {
  /** Samples per property identifier. */
  properties?: Record<string, PropertySample[]>
  /** Samples per event identifier. */
  events?: Record<
    string,
    Array<{
      /** The event's output params. */
      value: Record<string, unknown>
      /** When it happened, ms since the epoch. */
      time?: number
    }>
  >
}

function checkSamples(samples: unknown, what: string): asserts samples is unknown[] {
  if (!Array.isArray(samples) || samples.length === 0)
    throw invalidArgument(`${what} must be a non-empty array`)
  for (const s of samples)
    if (!isRecord(s) || !('value' in s)) throw invalidArgument(`${what} holds a non-sample`)
}

/** `thing.event.property.batch.post` (4.x): every sample checked against the model. */
export async function postBatch(
  ctx: ThingContext,
  batch: BatchPost,
  options?: PostOptions,
): Promise<AlinkReply> {
  if (!isRecord(batch)) throw invalidArgument('batch must be an object')
  const properties = batch.properties ?? {}
  const events = batch.events ?? {}
  if (!isRecord(properties) || !isRecord(events))
    throw invalidArgument('batch properties and events must be objects')
  if (Object.keys(properties).length + Object.keys(events).length === 0)
    throw invalidArgument('batch is empty')
  if (Object.keys(properties).length > MAX_PROPERTIES_PER_POST) {
    throw invalidArgument(`batch has more than ${MAX_PROPERTIES_PER_POST} properties`)
  }
  const model = ctx.thingModel
  for (const [id, samples] of Object.entries(properties)) {
    checkSamples(samples, `batch property "${id}"`)
    for (const sample of samples) model?.validateProperties({ [id]: sample })
  }
  for (const [id, samples] of Object.entries(events)) {
    assertTopicSegment(id, 'event identifier')
    checkSamples(samples, `batch event "${id}"`)
    for (const sample of samples) model?.validateEventParams(id, sample)
  }
  const topic = Topics.sys(ctx.connection, 'thing/event/property/batch/post')
  return send(ctx, topic, 'thing.event.property.batch.post', { properties, events }, options)
}

/** One entry of `postHistory`; `identity` defaults to this device. */
export interface HistoryEntry {
  /** Whose history: this device when absent, or one of a gateway's sub-devices. */
  identity?: {
    /** The product key. */
    productKey: string
    /** The device name. */
    deviceName: string
  }
  /** Property snapshots, identifier → sample. */
  properties?: Array<Record<string, PropertySample>>
  /** Event snapshots, identifier → output params and time. */
  events?: Array<
    Record<
      string,
      {
        /** The event's output params. */
        value: Record<string, unknown>
        /** When it happened, ms since the epoch. */
        time?: number
      }
    >
  >
}

/** `thing.event.property.history.post`: params is an array (docs/protocol.md §2.3 "History post"). */
export async function postHistory(
  ctx: ThingContext,
  entries: HistoryEntry[],
  options?: PostOptions,
): Promise<AlinkReply> {
  if (!Array.isArray(entries) || entries.length === 0)
    throw invalidArgument('history must be a non-empty array')
  const { productKey, deviceName } = ctx.connection
  const model = ctx.thingModel
  const params = entries.map((entry, i) => {
    if (!isRecord(entry)) throw invalidArgument(`history[${i}] must be an object`)
    const identity = entry.identity ?? { productKey, deviceName }
    if (
      !isRecord(identity) ||
      typeof identity.productKey !== 'string' ||
      typeof identity.deviceName !== 'string'
    ) {
      throw invalidArgument(`history[${i}].identity must name productKey and deviceName`)
    }
    const own = identity.productKey === productKey && identity.deviceName === deviceName
    const properties = entry.properties ?? []
    const events = entry.events ?? []
    if (!Array.isArray(properties) || !Array.isArray(events)) {
      throw invalidArgument(`history[${i}] properties and events must be arrays`)
    }
    for (const props of properties) {
      checkPropertyMap(props, `history[${i}].properties entry`)
      if (own) model?.validateProperties(props)
    }
    for (const event of events) {
      if (!isRecord(event)) throw invalidArgument(`history[${i}].events entries must be objects`)
      if (own) for (const [id, sample] of Object.entries(event)) model?.validateEventParams(id, sample)
    }
    return {
      identity: { productKey: identity.productKey, deviceName: identity.deviceName },
      properties,
      events,
    }
  })
  const topic = Topics.sys(ctx.connection, 'thing/event/property/history/post')
  return send(ctx, topic, 'thing.event.property.history.post', params, options)
}
