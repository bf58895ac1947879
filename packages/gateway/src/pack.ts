import { type DeviceIdentity, LinkkitError } from '@linkkit/core'
import type { ThingModel } from '@linkkit/thing-model'
import { SubDeviceLimits } from './limits.js'

/** Property values (plain or `{ value, time }`) and event outputs (bare or `{ value, time }`) of one device. */
export interface PackEntry {
  /** Property values, identifier → value or `{ value, time }`. */
  properties?: Record<string, unknown>
  /** Event outputs, identifier → params or `{ value, time }`. */
  events?: Record<string, Record<string, unknown>>
}

/** One sub-device's part of a pack: an opened `SubDevice`, or just the identity of one. */
export interface SubDevicePack extends PackEntry {
  /** Whose values these are. */
  subDevice: DeviceIdentity
}

/** `thing.event.property.pack.post`: the gateway's own values plus those of up to 20 sub-devices. */
export interface GatewayPack extends PackEntry {
  /** The sub-devices' parts, at most 20. */
  subDevices?: SubDevicePack[]
}

/** What the pack builder needs to know of a sub-device named in the pack. */
export interface PackMember {
  online: boolean
  thingModel: ThingModel | undefined
}

type Sample = { value: unknown; time: number }

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function sample(value: unknown, now: number): Sample {
  if (isRecord(value) && 'value' in value) {
    return { value: value.value, time: typeof value.time === 'number' ? value.time : now }
  }
  return { value, time: now }
}

function limit(what: string, count: number, max: number): void {
  if (count > max) {
    throw new LinkkitError('ERR_SUBDEVICE_LIMIT', `a pack post holds at most ${max} ${what}; got ${count}`, {
      details: { what, count, max },
    })
  }
}

function entryParams(entry: PackEntry, model: ThingModel | undefined, now: number) {
  if (entry.properties !== undefined && !isRecord(entry.properties))
    throw new LinkkitError('ERR_INVALID_ARGUMENT', 'pack properties must be an object')
  if (entry.events !== undefined && !isRecord(entry.events))
    throw new LinkkitError('ERR_INVALID_ARGUMENT', 'pack events must be an object')
  const properties: Record<string, Sample> = {}
  for (const [id, value] of Object.entries(entry.properties ?? {})) properties[id] = sample(value, now)
  const events: Record<string, Sample> = {}
  for (const [id, value] of Object.entries(entry.events ?? {})) events[id] = sample(value, now)
  if (model !== undefined) {
    if (Object.keys(properties).length > 0) model.validateProperties(properties)
    for (const [id, value] of Object.entries(events)) model.validateEventParams(id, value)
  }
  return { properties, events }
}

/**
 * Builds the params of a gateway pack post (docs/protocol.md §2.3): every value as `{ value, time }`
 * (plain values are stamped now), checked against each device's thing model, within the limits
 * of 20 sub-devices, 200 properties and 20 events per message (ERR_SUBDEVICE_LIMIT). A sub-device
 * opened on this gateway must be logged in (ERR_SUBDEVICE_NOT_LOGGED_IN); for others the platform decides.
 */
export function packParams(
  pack: GatewayPack,
  gatewayModel: ThingModel | undefined,
  member: (identity: DeviceIdentity) => PackMember | undefined,
  now: number,
) {
  if (!isRecord(pack)) throw new LinkkitError('ERR_INVALID_ARGUMENT', 'the pack must be an object')
  const subs = pack.subDevices ?? []
  if (!Array.isArray(subs)) throw new LinkkitError('ERR_INVALID_ARGUMENT', 'pack subDevices must be an array')
  limit('sub-devices', subs.length, SubDeviceLimits.packSubDevices)
  const entries: PackEntry[] = [pack, ...subs]
  limit(
    'properties',
    entries.reduce((n, e) => n + Object.keys(e.properties ?? {}).length, 0),
    SubDeviceLimits.packProperties,
  )
  limit(
    'events',
    entries.reduce((n, e) => n + Object.keys(e.events ?? {}).length, 0),
    SubDeviceLimits.packEvents,
  )
  const own = entryParams(pack, gatewayModel, now)
  const subDevices = subs.map((sub) => {
    const id = sub.subDevice
    if (!isRecord(id) || typeof id.productKey !== 'string' || typeof id.deviceName !== 'string')
      throw new LinkkitError(
        'ERR_INVALID_ARGUMENT',
        'each pack entry needs subDevice: { productKey, deviceName }',
      )
    const identity = { productKey: id.productKey, deviceName: id.deviceName }
    const known = member(identity)
    if (known !== undefined && !known.online) {
      throw new LinkkitError(
        'ERR_SUBDEVICE_NOT_LOGGED_IN',
        `sub-device ${id.productKey}/${id.deviceName} is not logged in`,
      )
    }
    return { identity, ...entryParams(sub, known?.thingModel, now) }
  })
  return { ...own, subDevices }
}
