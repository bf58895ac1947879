import type { DeviceState } from '../registry.js'
import { isSample } from '../tsl/model.js'
import type { DeviceThingState, ReportedEvent, ReportedProperty } from './types.js'

export const MAX_EVENTS = 1000
export const MAX_RAW_UPLINKS = 100

/**
 * The thing-model part of a device's registry record, created on first use. Records are
 * prototype-less so identifiers such as `__proto__` from a device stay plain keys.
 */
export function thingState(state: DeviceState): DeviceThingState {
  state.properties ??= Object.create(null) as DeviceThingState['properties']
  state.events ??= []
  state.desired ??= Object.create(null) as DeviceThingState['desired']
  state.tags ??= Object.create(null) as DeviceThingState['tags']
  state.rawUp ??= []
  const { properties, events, desired, tags, rawUp } = state
  return { properties, events, desired, tags, rawUp }
}

/** Appends `item`, dropping the oldest entries beyond `max`. */
export function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item)
  if (list.length > max) list.splice(0, list.length - max)
}

export { isSample }

function sampleTime(time: unknown, now: number): number {
  return typeof time === 'number' && Number.isSafeInteger(time) && time >= 0 ? time : now
}

/** A posted property value (plain or sample) as stored. */
export function toReported(posted: unknown, now: number): ReportedProperty {
  return isSample(posted)
    ? { value: posted.value, time: sampleTime(posted.time, now) }
    : { value: posted, time: now }
}

/** Event params (wrapped or bare) as stored. */
export function toEvent(identifier: string, params: unknown, now: number): ReportedEvent {
  return isSample(params)
    ? { identifier, value: params.value, time: sampleTime(params.time, now) }
    : { identifier, value: params, time: now }
}

/** Stores a property unless a newer sample is already held (batch and history posts). */
export function keepNewest(
  properties: Record<string, ReportedProperty>,
  identifier: string,
  next: ReportedProperty,
): void {
  const held = properties[identifier]
  if (held === undefined || held.time <= next.time) properties[identifier] = next
}
