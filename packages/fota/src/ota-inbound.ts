import {
  type DeviceIdentity,
  type LinkkitError,
  normaliseId,
  parseJson,
  peekId,
  type Qos,
  Topics,
  toLinkkitError,
} from '@linkkit/core'
import { parseConfigOffer } from './cota.js'
import { parseOfferData, parseUpgradePush } from './offer.js'
import type { ConfigOffer, FirmwareOffer } from './types.js'

/** The inbound OTA topics, named by what arrives on them (docs/protocol.md §3.1, §2.3). */
export type OtaInbound = 'upgrade' | 'request' | 'firmwareGetReply' | 'configPush' | 'configGetReply'

/**
 * Topic and subscription QoS of each inbound kind. The QoS is the C SDK 3.x's (docs/protocol.md
 * §3.1, §4.1): upgrade and legacy request 1, the config topics 0. 3.x does not use the firmware
 * query and 4.x relies on `_ss=1`; its reply topic is subscribed at 1, as core subscribes every
 * reply topic.
 */
export const INBOUND: Readonly<Record<OtaInbound, { topic: (id: DeviceIdentity) => string; qos: Qos }>> =
  Object.freeze({
    upgrade: { topic: Topics.otaUpgrade, qos: 1 },
    request: { topic: Topics.otaRequest, qos: 1 },
    firmwareGetReply: { topic: (id: DeviceIdentity) => Topics.reply(Topics.otaFirmwareGet(id)), qos: 1 },
    configPush: { topic: Topics.configPush, qos: 0 },
    configGetReply: { topic: (id: DeviceIdentity) => Topics.reply(Topics.configGet(id)), qos: 0 },
  })

/** What one inbound OTA message means once read; what to answer on the wire comes with it. */
export type InboundMessage =
  | {
      /** A firmware offer. */
      kind: 'offer'
      offer: FirmwareOffer
    }
  | {
      /** A configuration offer; `replyId` is set for a push, which is answered 200. */
      kind: 'config'
      offer: ConfigOffer
      replyId?: string
    }
  | {
      /**
       * Refused: nothing may be fetched. A refused config push is answered 460 when `replyId` is
       * set; a refused firmware offer is reported as step -1 (`offer: true`).
       */
      kind: 'refused'
      error: LinkkitError
      offer: boolean
      replyId?: string
    }
  | {
      /** Nothing for a user: no offer in it (an empty or failed reply, the device's own request echoed). */
      kind: 'ignored'
    }

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A reply's `code` 200, as a number or as the string 3.x sends. */
function isOk(code: unknown): boolean {
  return code === 200 || code === '200'
}

/** `data` of a query reply that offers nothing: absent, null or `{}` (the platform with no job). */
export function offersNothing(data: unknown): boolean {
  return data === undefined || data === null || (typeof data === 'object' && Object.keys(data).length === 0)
}

/**
 * Reads one inbound OTA message, within core's inbound size and depth limits (`parseJson`). It
 * never throws: anything unreadable is `refused` with a coded error (`ERR_MALFORMED_PAYLOAD` for a
 * payload that is not JSON or over the limits, `ERR_OFFER_INVALID` for an offer that is not one).
 */
export function readInbound(via: OtaInbound, topic: string, payload: Buffer): InboundMessage {
  let body: unknown
  try {
    body = parseJson(payload, topic)
  } catch (error) {
    const refused = refusal(via, error)
    // A config push refused unparsed (over the limits) is still answered when its head names the id.
    const id = via === 'configPush' ? peekId(payload) : undefined
    return id === undefined ? refused : { ...refused, replyId: id }
  }
  const envelope = isRecord(body) ? body : {}
  try {
    switch (via) {
      case 'upgrade':
        return { kind: 'offer', offer: parseUpgradePush(body) }
      case 'request':
        // 3.x takes a message on the legacy request topic for a push only when it carries a url
        // (docs/protocol.md §3.1); the device's own request, echoed by the broker, has none.
        if (!JSON.stringify(body).includes('"url"')) return { kind: 'ignored' }
        return { kind: 'offer', offer: parseUpgradePush(body) }
      case 'firmwareGetReply':
        // Replies to the device's own queries are settled by the session; this sees unsolicited ones.
        if (!isOk(envelope.code) || offersNothing(envelope.data)) return { kind: 'ignored' }
        return { kind: 'offer', offer: parseOfferData(envelope.data) }
      case 'configPush':
        return configPush(envelope)
      case 'configGetReply':
        if (!isOk(envelope.code)) return { kind: 'ignored' }
        return { kind: 'config', offer: parseConfigOffer(envelope.data) }
    }
  } catch (error) {
    return refusal(via, error)
  }
}

/** A config push is a cloud request: whatever it holds, a readable id gets an answer (docs/protocol.md §2.3). */
function configPush(envelope: Record<string, unknown>): InboundMessage {
  const id = normaliseId(envelope.id)
  let offer: ConfigOffer
  try {
    offer = parseConfigOffer(envelope.params)
  } catch (error) {
    const refused = refusal('configPush', error)
    return id === undefined ? refused : { ...refused, replyId: id }
  }
  return id === undefined ? { kind: 'config', offer } : { kind: 'config', offer, replyId: id }
}

function refusal(via: OtaInbound, error: unknown): InboundMessage & { kind: 'refused' } {
  const offer = via === 'upgrade' || via === 'request' || via === 'firmwareGetReply'
  return { kind: 'refused', error: toLinkkitError(error, 'ERR_OFFER_INVALID'), offer }
}
