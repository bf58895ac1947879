import {
  type AlinkRequest,
  LinkkitError,
  parseReply,
  parseRequest,
  peekId,
  requestEnvelope,
  Topics,
  toLinkkitError,
} from '@linkkit/core'
import { DeviceReplyCodes, type ThingModel } from '@linkkit/thing-model'
import type { MqttClient } from 'mqtt'
import type { Counters } from './metrics.js'
import type { SimDevice } from './sim-device.js'
import { type Random, sampleParams } from './values.js'

/** A post waiting for its reply: the device, the client it left on, when (the fleet clock). */
interface Pending {
  sim: SimDevice
  client: MqttClient
  at: number
}

const POST = { method: 'thing.event.property.post' }
const QOS0: { qos: 0 } = { qos: 0 }
const SERVICE_METHOD = /^thing\.service\.([^/#+\s]{1,64})$/

/** The reply code of a refused request: the thing model's 63xx code, else 460 (docs/protocol.md §2.4). */
function refusalCode(error: LinkkitError): number {
  if (error.code === 'ERR_SERVICE_NOT_FOUND') return DeviceReplyCodes.methodNotExist
  const code = error.details?.platformCode
  return typeof code === 'number' ? code : DeviceReplyCodes.invalidParams
}

/**
 * The thing-model side of every device of a fleet, shared: posts of generated values with one
 * pending map keyed by Alink id for the whole fleet (timed out by the fleet's tick, not a timer
 * each), and the answers to property sets, property gets and services, checked against the thing
 * model and answered with the Alink codes a device answers (docs/protocol.md §2.3, §2.4).
 */
export class FleetThing {
  readonly #model: ThingModel | undefined
  readonly #counters: Counters
  readonly #random: Random
  readonly #timeoutMs: number
  readonly #pending = new Map<string, Pending>()
  #nextId = Date.now() % 1_000_000_000

  constructor(model: ThingModel | undefined, counters: Counters, random: Random, requestTimeoutMs: number) {
    this.#model = model
    this.#counters = counters
    this.#random = random
    this.#timeoutMs = requestTimeoutMs
  }

  /** A fresh Alink id, unique in the fleet (decimal, below 2^32, docs/protocol.md §2.1). */
  nextId(): string {
    this.#nextId = (this.#nextId + 1) % 4_294_967_296
    return String(this.#nextId)
  }

  /** Posts requests waiting for their reply. */
  get pending(): number {
    return this.#pending.size
  }

  /** Posts generated values (and those the cloud set) once; `now` is the fleet clock. */
  post(sim: SimDevice, model: ThingModel, now: number): void {
    const client = sim.client
    if (client === undefined) return
    const values = sampleParams(model.properties, this.#random)
    if (sim.sets !== undefined) Object.assign(values, sim.sets)
    const id = this.nextId()
    this.#counters.postsSent++
    this.#pending.set(id, { sim, client, at: now })
    sim.pending++
    const body = JSON.stringify(requestEnvelope(id, values, POST))
    client.publish(Topics.propertyPost(sim.triple), body, QOS0)
  }

  /**
   * One message on the device's `/sys/{pk}/{dn}/` topics (`rest` is what follows); false when it
   * is none of the thing model's.
   */
  deliver(sim: SimDevice, rest: string, topic: string, payload: Buffer, now: number): boolean {
    if (rest === 'thing/event/property/post_reply') this.#postReply(sim, topic, payload, now)
    else if (rest.startsWith('thing/service/')) {
      const name = rest.slice('thing/service/'.length)
      // The `thing/service/#` filter also brings back the device's own answers.
      if (name.endsWith('_reply')) return true
      this.#request(sim, topic, `${topic}_reply`, payload, name.replace('/', '.'))
    } else if (rest.startsWith('rrpc/request/')) {
      const replyTopic = topic.replace('/rrpc/request/', '/rrpc/response/')
      this.#request(sim, topic, replyTopic, payload, undefined)
    } else return false
    return true
  }

  /** Fails (or, for a device that went offline meanwhile, counts as lost) posts unanswered for `requestTimeoutMs`. */
  sweep(now: number): void {
    // Every post waits as long, so the oldest come first in the map's insertion order.
    for (const [id, p] of this.#pending) {
      if (now - p.at < this.#timeoutMs) break
      this.#pending.delete(id)
      p.sim.pending--
      if (p.sim.client === p.client) {
        this.#counters.postsFailed++
        this.#counters.error('ERR_REQUEST_TIMEOUT')
      } else this.#counters.postsLost++
    }
  }

  /** The device went offline: its posts waiting for a reply are lost. */
  lose(sim: SimDevice): void {
    if (sim.pending === 0) return
    for (const [id, p] of this.#pending) {
      if (p.sim !== sim) continue
      this.#pending.delete(id)
      this.#counters.postsLost++
    }
    sim.pending = 0
  }

  #postReply(sim: SimDevice, topic: string, payload: Buffer, now: number): void {
    const c = this.#counters
    let reply: ReturnType<typeof parseReply>
    try {
      reply = parseReply(payload, topic)
    } catch (error) {
      c.error(toLinkkitError(error, 'ERR_MALFORMED_PAYLOAD').code)
      return
    }
    const p = this.#pending.get(reply.id)
    // A reply to no post of this device (an unknown id, or one another device sent) is ignored.
    if (p === undefined || p.sim !== sim) return
    this.#pending.delete(reply.id)
    sim.pending--
    if (reply.code !== DeviceReplyCodes.success) {
      c.postsFailed++
      c.error('ERR_REPLY')
      return
    }
    c.postsAnswered++
    c.roundTrips.add(now - p.at)
    c.postRate.add(now)
  }

  /** A cloud request: `method` from the topic (async) or, when undefined, from the payload (legacy RRPC). */
  #request(
    sim: SimDevice,
    topic: string,
    replyTopic: string,
    payload: Buffer,
    method: string | undefined,
  ): void {
    let request: AlinkRequest
    try {
      request = parseRequest(payload, topic)
    } catch (error) {
      const err = toLinkkitError(error, 'ERR_MALFORMED_PAYLOAD')
      this.#counters.error(err.code)
      const id = peekId(payload)
      if (id !== undefined) this.#reply(sim, replyTopic, id, DeviceReplyCodes.invalidParams, {}, err.message)
      return
    }
    const name = method ?? SERVICE_METHOD.exec(request.method ?? '')?.[1] ?? ''
    try {
      const data = this.#answer(sim, name, request.params)
      this.#reply(sim, replyTopic, request.id, DeviceReplyCodes.success, data)
    } catch (error) {
      const err = toLinkkitError(error, 'ERR_SERVICE')
      this.#counters.error(err.code)
      this.#reply(sim, replyTopic, request.id, refusalCode(err), {}, err.message)
    }
  }

  /** What a request is answered with; throws a coded error for what the device refuses. */
  #answer(sim: SimDevice, name: string, params: unknown): unknown {
    const model = this.#model
    if (name === 'property.set') {
      if (typeof params !== 'object' || params === null || Array.isArray(params))
        throw new LinkkitError('ERR_MALFORMED_PAYLOAD', 'property set params must be a JSON object')
      const values = params as Record<string, unknown>
      model?.validateProperties(values, { writableOnly: true })
      sim.sets = { ...sim.sets, ...values }
      this.#counters.propertySets++
      return {}
    }
    if (model === undefined)
      throw new LinkkitError('ERR_SERVICE_NOT_FOUND', `no thing model, so no service "${name}"`)
    model.validateServiceInput(name === 'property.get' ? 'get' : name, params)
    if (name === 'property.get') {
      const wanted = new Set(params as string[])
      const values = sampleParams(
        model.properties.filter((p) => wanted.has(p.identifier)),
        this.#random,
      )
      for (const key of Object.keys(values)) if (sim.sets?.[key] !== undefined) values[key] = sim.sets[key]
      return values
    }
    const service = model.service(name)
    this.#counters.services++
    return sampleParams(service?.outputData ?? [], this.#random)
  }

  #reply(sim: SimDevice, topic: string, id: string, code: number, data: unknown, message?: string): void {
    const body: Record<string, unknown> = { id, code, data }
    if (message !== undefined) body.message = message
    sim.client?.publish(topic, JSON.stringify(body), QOS0)
  }
}
