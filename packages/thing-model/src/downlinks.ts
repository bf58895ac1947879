import { type AlinkRequest, LinkkitError, Topics, toLinkkitError } from '@linkkit/core'
import type { ThingContext } from './context.js'
import { isRecord, readJson, readRequest } from './inbound.js'
import type { NtpClient } from './ntp.js'
import type { RrpcMode } from './options.js'
import type { PropertyDownlinks } from './properties.js'
import type { RawChannel } from './raw.js'
import { DeviceReplyCodes } from './reply-codes.js'
import { type ReplyTarget, refuse, sendReply } from './respond.js'
import type { ServiceDownlinks } from './services.js'

/** A handler of one subscribed filter, a method of `Downlinks` (shared by every instance, not a closure each). */
type Route = (this: Downlinks, topic: string, payload: Buffer) => Promise<void> | void

/** The parts a downlink is handed to. */
export interface DownlinkParts {
  properties: PropertyDownlinks
  services: ServiceDownlinks
  raw: RawChannel
  ntp: NtpClient
}

const SERVICE_METHOD = /^thing\.service\.([^/#+\s]{1,64})$/

/**
 * Turns inbound messages into calls on the parts: one function per subscribed filter. Each runs
 * guarded, so whatever arrives becomes at worst an `error` event (and an error reply when the
 * request's id is known); the MQTT session never sees a throw.
 */
export class Downlinks {
  readonly #ctx: ThingContext
  readonly #parts: DownlinkParts
  readonly #sys: string
  #inFlight = 0

  constructor(ctx: ThingContext, parts: DownlinkParts) {
    this.#ctx = ctx
    this.#parts = parts
    this.#sys = Topics.sys(ctx.connection, '')
  }

  /**
   * Every filter the device needs with the function handling it. Reply topics have none: the
   * connection settles its requests there, and subscribing them up front spares one SUBSCRIBE per
   * first request. `up_raw_reply` is binary, which the connection does not route, so the client
   * takes it from the message stream.
   */
  routes(
    rrpc: RrpcMode,
  ): Array<[filter: string, handler: ((topic: string, payload: Buffer) => void) | undefined]> {
    const sys = this.#sys
    const c = this.#ctx.connection
    // One guarded handler for every filter, not one closure each: the filters are disjoint, and
    // `#route` tells by the topic which of them matched.
    const handle = this.guard(this.#route)
    const routes: Array<[string, ((topic: string, payload: Buffer) => void) | undefined]> = [
      [`${sys}thing/service/#`, handle],
      [`${sys}thing/model/down_raw`, handle],
      [Topics.extError(c), handle],
      [Topics.ntpResponse(c), handle],
      [`${sys}thing/event/+/post_reply`, undefined],
      [`${sys}thing/event/property/+/post_reply`, undefined],
      [`${sys}thing/property/desired/get_reply`, undefined],
      [`${sys}thing/property/desired/delete_reply`, undefined],
      [`${sys}thing/deviceinfo/update_reply`, undefined],
      [`${sys}thing/deviceinfo/delete_reply`, undefined],
      [`${sys}thing/model/up_raw_reply`, undefined],
    ]
    if (rrpc !== 'ext') routes.push([`${sys}rrpc/request/+`, handle])
    if (rrpc !== 'legacy') routes.push([`/ext/rrpc/+${sys}#`, handle])
    return routes
  }

  /** The route of a topic one of the handled filters of `routes()` matched. */
  #route(topic: string, payload: Buffer): Promise<void> | void {
    const sys = this.#sys
    if (topic.startsWith('/ext/rrpc/')) return this.extRrpc(topic, payload)
    if (topic.startsWith('/ext/error/')) return this.cloudError(topic, payload)
    if (topic.startsWith('/ext/ntp/')) return this.ntpResponse(topic, payload)
    if (topic.startsWith('rrpc/request/', sys.length)) return this.legacyRrpc(topic, payload)
    if (topic.startsWith('thing/service/', sys.length)) return this.service(topic, payload)
    return this.downRaw(topic, payload)
  }

  /** Wraps a route so nothing escapes it. */
  guard(route: Route): (topic: string, payload: Buffer) => void {
    return (topic, payload) => {
      if (this.#ctx.closed) return
      const failed = (error: unknown) =>
        this.#ctx.report(toLinkkitError(error, 'ERR_MALFORMED_PAYLOAD', `failed to handle ${topic}`))
      try {
        const result = route.call(this, topic, payload)
        if (result instanceof Promise) result.catch(failed)
      } catch (error) {
        failed(error)
      }
    }
  }

  /**
   * `/sys/${pk}/${dn}/thing/service/#`: property set and get first (the filter matches them too,
   * docs/protocol.md §2.3), then async services; `*_reply` echoes of our own answers are dropped.
   */
  service(topic: string, payload: Buffer): Promise<void> | void {
    const rest = topic.slice(`${this.#sys}thing/service/`.length)
    const reply = { topic, replyTopic: `${topic}_reply` }
    if (rest === 'property/set')
      return this.#request(reply, payload, (t, r) => this.#parts.properties.set(t, r))
    if (rest === 'property/get')
      return this.#request(reply, payload, (t, r) => this.#parts.properties.get(t, r))
    if (rest.endsWith('_reply') && readRequest(topic, payload, this.#ctx.options).kind === 'echo') return
    if (rest.includes('/')) return this.#unknownTopic(topic)
    return this.#request(reply, payload, (t, r) => this.#parts.services.invoke(t, rest, r, false))
  }

  /** Legacy RRPC: `/sys/${pk}/${dn}/rrpc/request/${rrpcId}` → `.../rrpc/response/${rrpcId}`; service id from `method`. */
  legacyRrpc(topic: string, payload: Buffer): Promise<void> {
    const replyTopic = topic.replace('/rrpc/request/', '/rrpc/response/')
    return this.#request({ topic, replyTopic }, payload, (target, request) => {
      const serviceId = SERVICE_METHOD.exec(request.method ?? '')?.[1]
      if (serviceId === undefined) {
        const message = `RRPC request on ${topic} has no thing.service.<id> method`
        return refuse(this.#ctx, target, new LinkkitError('ERR_SERVICE_NOT_FOUND', message))
      }
      if (serviceId === 'property.set') return this.#parts.properties.set(target, request)
      if (serviceId === 'property.get') return this.#parts.properties.get(target, request)
      return this.#parts.services.invoke(target, serviceId, request, true)
    })
  }

  /** Ext RRPC: `/ext/rrpc/${rrpcId}/sys/${pk}/${dn}/thing/service/${id}` (or `thing/model/down_raw`), answered on the same topic. */
  extRrpc(topic: string, payload: Buffer): Promise<void> | void {
    if (this.#ctx.echoes.take(topic)) return
    const rest = topic.split('/').slice(7).join('/')
    const reply = { topic, replyTopic: topic }
    if (rest === 'thing/model/down_raw') return this.#parts.raw.onDown(topic, topic, payload, true)
    if (rest === 'thing/service/property/set')
      return this.#request(reply, payload, (t, r) => this.#parts.properties.set(t, r))
    if (rest === 'thing/service/property/get')
      return this.#request(reply, payload, (t, r) => this.#parts.properties.get(t, r))
    const serviceId = rest.startsWith('thing/service/') ? rest.slice('thing/service/'.length) : ''
    if (serviceId === '' || serviceId.includes('/')) return this.#unknownTopic(topic)
    return this.#request(reply, payload, (t, r) => this.#parts.services.invoke(t, serviceId, r, true))
  }

  downRaw(topic: string, payload: Buffer): Promise<void> | void {
    return this.#parts.raw.onDown(topic, `${topic}_reply`, payload, false)
  }

  ntpResponse(topic: string, payload: Buffer): void {
    this.#parts.ntp.onResponse(topic, payload)
  }

  /** `/ext/error/${pk}/${dn}`: emits `cloud:error` and an ERR_CLOUD_ERROR `error` carrying the code. */
  cloudError(topic: string, payload: Buffer): void {
    const json = readJson(topic, payload, this.#ctx.options)
    if (!json.ok || !isRecord(json.body)) {
      this.#ctx.report(
        json.ok
          ? new LinkkitError('ERR_MALFORMED_PAYLOAD', `error notice on ${topic} is not an object`, { topic })
          : json.error,
      )
      return
    }
    const { body } = json
    const raw = typeof body.code === 'string' && /^\d{1,9}$/.test(body.code) ? Number(body.code) : body.code
    const code = typeof raw === 'number' && Number.isInteger(raw) ? raw : undefined
    const message = typeof body.message === 'string' ? body.message : undefined
    this.#ctx.emit('cloud:error', { code, message, data: body.data })
    this.#ctx.report(
      new LinkkitError(
        'ERR_CLOUD_ERROR',
        `cloud error ${code ?? '(no code)'}${message ? `: ${message}` : ''}`,
        {
          topic,
          replyCode: code,
          details: { data: body.data },
        },
      ),
    )
  }

  async #request(
    where: Omit<ReplyTarget, 'id'>,
    payload: Buffer,
    handle: (target: ReplyTarget, request: AlinkRequest) => Promise<void>,
  ): Promise<void> {
    const ctx = this.#ctx
    const inbound = readRequest(where.topic, payload, ctx.options)
    if (inbound.kind === 'echo') return
    if (inbound.kind === 'invalid') {
      ctx.report(inbound.error)
      if (inbound.id !== undefined) {
        await sendReply(
          ctx,
          { ...where, id: inbound.id },
          DeviceReplyCodes.invalidParams,
          {},
          inbound.error.message,
        )
      }
      return
    }
    const target = { ...where, id: inbound.request.id }
    if (this.#inFlight >= ctx.options.maxConcurrentRequests) {
      ctx.logger.warn({ topic: where.topic, inFlight: this.#inFlight }, 'too many requests in flight')
      await sendReply(ctx, target, DeviceReplyCodes.tooManyRequests, {}, 'device busy')
      return
    }
    this.#inFlight++
    try {
      await handle(target, inbound.request)
    } finally {
      this.#inFlight--
    }
  }

  #unknownTopic(topic: string): void {
    this.#ctx.report(new LinkkitError('ERR_MALFORMED_PAYLOAD', `no handler for topic ${topic}`, { topic }))
  }
}
