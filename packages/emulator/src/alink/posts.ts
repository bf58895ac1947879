import type { LinkkitError } from '@linkkit/core'
import { AlinkCodes, type Answer, fail, isRecord, MAX_PROPERTIES, OK } from './envelope.js'
import { isSample, keepNewest, toEvent, toReported } from './thing-state.js'
import type { ThingDevice, UplinkRequest } from './uplink-request.js'

/**
 * `thing.event.property.post`. "Cloud validates against the TSL, drops invalid properties and still
 * answers 200"; more than 200 properties is 6106 (docs/protocol.md §2.3).
 */
export function propertyPost(req: UplinkRequest): Answer {
  const { params } = req
  if (!isRecord(params)) return fail(AlinkCodes.paramsNotObject)
  const count = Object.keys(params).length
  if (count === 0) return fail(AlinkCodes.invalidParams, 'params is empty')
  if (count > MAX_PROPERTIES) return fail(AlinkCodes.tooManyProperties)
  let accepted = params
  if (req.model !== undefined) {
    const check = req.model.checkPost(params, req.now)
    if (check.errors.length > 0) req.invalid(check.errors, AlinkCodes.success)
    accepted = check.valid
  }
  for (const [identifier, posted] of Object.entries(accepted)) {
    req.state.properties[identifier] = toReported(posted, req.now)
  }
  req.journal.changed(req.identity, req.state, 'properties')
  return OK
}

/** `thing.event.${eventId}.post`, params bare or `{ value, time }`; a TSL failure answers its 63xx code. */
export function eventPost(req: UplinkRequest, eventId: string): Answer {
  const { params } = req
  if (!isRecord(params)) return fail(AlinkCodes.paramsNotObject)
  const errors = req.model?.checkEvent(eventId, params) ?? []
  const first = errors[0]
  if (first !== undefined) {
    const code = platformCode(first)
    req.invalid(errors, code)
    return fail(code, first.message)
  }
  req.journal.event(req.identity, req.state, toEvent(eventId, params, req.now))
  return OK
}

/**
 * `thing.event.property.batch.post` (4.x): `{"properties":{"id":[{value,time},..]},"events":{"id":[..]}}`
 * (shape inferred, docs/protocol.md §2.3). Invalid samples are dropped, as for a property post.
 */
export function batchPost(req: UplinkRequest): Answer {
  const { params } = req
  if (!isRecord(params)) return fail(AlinkCodes.paramsNotObject)
  const properties = params.properties ?? {}
  const events = params.events ?? {}
  if (!isRecord(properties) || !isRecord(events)) {
    return fail(AlinkCodes.invalidParams, 'properties and events must be objects')
  }
  if (Object.keys(properties).length > MAX_PROPERTIES) return fail(AlinkCodes.tooManyProperties)
  const entries = (map: Record<string, unknown>) =>
    Object.entries(map).flatMap(([id, samples]) =>
      (Array.isArray(samples) ? samples : [samples]).map((sample) => ({ [id]: sample })),
    )
  const errors = store(req, req, entries(properties), entries(events))
  if (errors.length > 0) req.invalid(errors, AlinkCodes.success)
  return OK
}

/**
 * `thing.event.property.history.post`: an array of `{identity, properties:[{id:{value,time}}], events:[..]}`.
 * "A direct device may only post its own history; a gateway may include its sub-devices"
 * (docs/protocol.md §2.3), so a foreign identity refuses the whole message with 460.
 */
export async function historyPost(req: UplinkRequest): Promise<Answer> {
  const { params } = req
  if (!Array.isArray(params)) return fail(AlinkCodes.paramsNotObject, 'params must be an array')
  const batches: Array<{ target: ThingDevice; properties: unknown[]; events: unknown[] }> = []
  for (const entry of params) {
    if (!isRecord(entry) || !isRecord(entry.identity))
      return fail(AlinkCodes.invalidParams, 'identity missing')
    const { productKey, deviceName } = entry.identity
    if (typeof productKey !== 'string' || typeof deviceName !== 'string') {
      return fail(AlinkCodes.invalidParams, 'identity must name productKey and deviceName')
    }
    const target = await req.lookup({ productKey, deviceName })
    if (target === undefined)
      return fail(AlinkCodes.invalidParams, `may not post for ${productKey}/${deviceName}`)
    const properties = entry.properties ?? []
    const events = entry.events ?? []
    if (!Array.isArray(properties) || !Array.isArray(events)) {
      return fail(AlinkCodes.invalidParams, 'properties and events must be arrays')
    }
    batches.push({ target, properties, events })
  }
  const errors: LinkkitError[] = []
  for (const { target, properties, events } of batches) {
    errors.push(...store(req, target, splitEntries(properties), splitEntries(events)))
  }
  if (errors.length > 0) req.invalid(errors, AlinkCodes.success)
  return OK
}

/** `[{a:s1,b:s2},{a:s3}]` → `[{a:s1},{b:s2},{a:s3}]`; non-objects become entries that fail validation. */
function splitEntries(list: unknown[]): Array<Record<string, unknown>> {
  return list.flatMap((item) =>
    isRecord(item) ? Object.entries(item).map(([id, sample]) => ({ [id]: sample })) : [{ '': item }],
  )
}

/** Validates and stores single-entry `{id: sample}` property and event records; returns the failures. */
function store(
  req: UplinkRequest,
  target: ThingDevice,
  properties: Array<Record<string, unknown>>,
  events: Array<Record<string, unknown>>,
): LinkkitError[] {
  const errors: LinkkitError[] = []
  const { model, state, identity, journal } = target
  for (const entry of properties) {
    const check = model?.checkPost(entry, req.now)
    if (check !== undefined) errors.push(...check.errors)
    for (const [id, sample] of Object.entries(check?.valid ?? entry)) {
      if (id !== '' && isSample(sample)) keepNewest(state.properties, id, toReported(sample, req.now))
    }
  }
  if (properties.length > 0) journal.changed(identity, state, 'properties')
  for (const entry of events) {
    for (const [id, sample] of Object.entries(entry)) {
      const refused = model?.checkEvent(id, sample) ?? []
      if (refused.length > 0) errors.push(...refused)
      else if (id !== '' && isSample(sample)) journal.event(identity, state, toEvent(id, sample, req.now))
    }
  }
  return errors
}

/** The platform code a thing-model error carries (`details.platformCode`), else 6315 "data not satisfying TSL". */
export function platformCode(error: LinkkitError): number {
  const code = error.details?.platformCode
  return typeof code === 'number' ? code : AlinkCodes.notTslData
}
