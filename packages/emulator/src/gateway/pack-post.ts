import { Topics, WireCodes } from '@linkkit/core'
import { type Answer, isRecord } from '../alink/envelope.js'
import type { DeviceIdentity } from '../types.js'
import { GATEWAY_MESSAGES, GatewayCodes, PACK_LIMITS } from './codes.js'
import { failure, isSegment, readIdentity } from './params.js'
import type { GatewayCore, GatewayHandler, GatewayRequest } from './types.js'

interface PackEntry {
  identity: DeviceIdentity
  properties: Record<string, unknown>
  events: Record<string, unknown>
}

function entry(identity: DeviceIdentity, value: Record<string, unknown>): PackEntry | undefined {
  const properties = value.properties ?? {}
  const events = value.events ?? {}
  if (!isRecord(properties) || !isRecord(events)) return undefined
  if (!Object.keys(events).every(isSegment)) return undefined
  return { identity, properties, events }
}

function invalid(message: string, code: number = GatewayCodes.invalidParams): Answer {
  return { code, message }
}

/**
 * `thing.event.property.pack.post` (docs/protocol.md §2.3): the gateway's own properties and events
 * plus those of up to 20 logged-in sub-devices in one message, at most 200 properties and 20
 * events in all. Each device's part is then handled as that device's own property and event
 * posts (without replies), so the thing-model checks and stored values are the same as for a
 * direct post.
 */
export function packPost(core: GatewayCore): GatewayHandler {
  return (request) => {
    const { params, gateway } = request
    if (!isRecord(params)) return invalid('params must be an object')
    const subs = params.subDevices ?? []
    if (!Array.isArray(subs)) return invalid('subDevices must be an array')
    if (subs.length > PACK_LIMITS.subDevices)
      return invalid(`at most ${PACK_LIMITS.subDevices} sub-devices per pack`)
    const own = entry(gateway, params)
    if (own === undefined) return invalid('properties and events must be objects')
    const entries = [own]
    for (const sub of subs) {
      const identity = isRecord(sub) ? readIdentity(sub.identity) : undefined
      const parsed = identity === undefined || !isRecord(sub) ? undefined : entry(identity, sub)
      if (parsed === undefined) return invalid('each sub-device needs identity, properties and events')
      entries.push(parsed)
    }
    const properties = entries.reduce((n, e) => n + Object.keys(e.properties).length, 0)
    const events = entries.reduce((n, e) => n + Object.keys(e.events).length, 0)
    if (properties > PACK_LIMITS.properties)
      return invalid('map size must less than 200', WireCodes.tooManyProperties)
    if (events > PACK_LIMITS.events) return invalid(`at most ${PACK_LIMITS.events} events per pack`)
    const offline = entries.slice(1).filter((e) => !core.acl.topology.loggedInVia(gateway, e.identity))
    if (offline.length > 0) {
      const code = GatewayCodes.noSession
      const message = GATEWAY_MESSAGES[code] ?? 'device no session'
      return { code, message, data: offline.map((e) => failure(e.identity, code, message)) }
    }
    for (const e of entries) unpack(core, request, e)
    return { code: GatewayCodes.success, data: {} }
  }
}

function unpack(core: GatewayCore, request: GatewayRequest, e: PackEntry): void {
  const post = (topic: string, params: unknown) =>
    core.dispatch({
      ...request.gateway,
      topic,
      payload: Buffer.from(JSON.stringify({ id: '0', version: '1.0', params, sys: { ack: 0 } })),
      qos: 0,
      clientId: '',
    })
  if (Object.keys(e.properties).length > 0) post(Topics.propertyPost(e.identity), e.properties)
  for (const [eventId, params] of Object.entries(e.events))
    post(Topics.eventPost(e.identity, eventId), params)
}
