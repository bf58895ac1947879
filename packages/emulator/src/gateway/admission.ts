import { sameIdentity, topicIdentity } from '@linkkit/core'
import type { Logger } from 'pino'
import { parseUplink, replyPayload } from '../alink/envelope.js'
import type { DeviceIdentity, EmulatorPublishOptions, UplinkContext } from '../types.js'
import { GATEWAY_MESSAGES, GatewayCodes } from './codes.js'
import type { Topology } from './topology.js'

export interface AdmissionDeps {
  topology: Topology
  logger: Logger
  publish(topic: string, payload: string | Uint8Array, options?: EmulatorPublishOptions): Promise<void>
  /** The clientId of the device's own MQTT connection, if it has one. */
  directClientId(identity: DeviceIdentity): string | undefined
}

/** Notices about a sub-device reach its gateway whether or not it is logged in (docs/protocol.md §5). */
const NOTICE = /^\/sys\/[^/]+\/[^/]+\/thing\/(?:disable|enable|delete)$/

/** Answers from a device to the platform's own requests; they carry nothing new to route. */
function isAnswer(topic: string): boolean {
  return topic.endsWith('_reply') || topic.includes('/rrpc/response/')
}

/**
 * Decides what a gateway's connection carries for its sub-devices: their topics flow only while
 * they are logged in (docs/protocol.md §5, "after login the gateway publishes and receives the
 * sub-device's own topics"). A request published for a sub-device without a session is answered
 * 520 "device has no active session" (§2.4) and goes no further.
 */
export class Admission {
  readonly #d: AdmissionDeps

  constructor(deps: AdmissionDeps) {
    this.#d = deps
  }

  /** Whether an uplink reaches the platform's services; answers 520 when it does not. */
  admits(ctx: UplinkContext): boolean {
    const owner = topicIdentity(ctx.topic)
    if (owner === undefined || sameIdentity(owner, ctx)) return true
    const { topology } = this.#d
    if (!topology.isMember(ctx, owner) || topology.loggedInVia(ctx, owner) || isAnswer(ctx.topic)) return true
    this.#d.logger.info({ topic: ctx.topic }, 'uplink for a sub-device without a session')
    this.#answerNoSession(ctx)
    return false
  }

  /** Whether a routed message may be forwarded to the connection with `clientId`. */
  mayForward(clientId: string, topic: string): boolean {
    const owner = topicIdentity(topic)
    if (owner === undefined) return true
    const { topology } = this.#d
    if (topology.gatewayOf(owner) === undefined || topology.session(owner) !== undefined) return true
    if (this.#d.directClientId(owner) === clientId) return true
    return isAnswer(topic) || NOTICE.test(topic)
  }

  #answerNoSession(ctx: UplinkContext): void {
    if (!ctx.topic.startsWith('/sys/') || ctx.topic.endsWith('/thing/model/up_raw')) return
    const uplink = parseUplink(ctx.payload)
    if (uplink.id === undefined || (uplink.ok && !uplink.ack)) return
    const method = ctx.topic.split('/').slice(4).join('.')
    const code = GatewayCodes.noSession
    const payload = replyPayload(uplink.id, method, { code, message: GATEWAY_MESSAGES[code] })
    this.#d.publish(`${ctx.topic}_reply`, payload, { qos: 0 }).catch((error: unknown) => {
      this.#d.logger.warn({ err: error, topic: ctx.topic }, '520 reply could not be published')
    })
  }
}
