import { ProductTsl } from '../tsl/model.js'
import { AlinkCodes, type Answer, fail, isRecord, OK } from './envelope.js'
import type { DesiredProperty } from './types.js'
import type { UplinkRequest } from './uplink-request.js'

/**
 * `thing.property.desired.get`: params `["power",..]`, reply data `{"power":{"value":"on","version":2}}`
 * ("properties with no desired value are omitted", docs/protocol.md §2.3).
 */
export function desiredGet(req: UplinkRequest): Answer {
  const { params } = req
  if (!Array.isArray(params)) return fail(AlinkCodes.paramsNotObject, 'params must be an array')
  if (!params.every((id) => typeof id === 'string')) return fail(AlinkCodes.invalidParams)
  const data: Record<string, Pick<DesiredProperty, 'value' | 'version'>> = {}
  for (const id of params as string[]) {
    const held = req.state.desired[id]
    if (held !== undefined) data[id] = { value: held.value, version: held.version }
  }
  return { code: AlinkCodes.success, data }
}

/** `thing.property.desired.delete`: params `{"power":{"version":1},"temperature":{}}`; a version guards the delete. */
export function desiredDelete(req: UplinkRequest): Answer {
  const { params } = req
  if (!isRecord(params)) return fail(AlinkCodes.paramsNotObject)
  for (const guard of Object.values(params)) {
    if (!isRecord(guard) || (guard.version !== undefined && typeof guard.version !== 'number')) {
      return fail(AlinkCodes.invalidParams, 'each entry must be {} or {"version":<n>}')
    }
  }
  for (const [id, guard] of Object.entries(params as Record<string, { version?: number }>)) {
    const held = req.state.desired[id]
    if (held !== undefined && (guard.version === undefined || guard.version === held.version)) {
      delete req.state.desired[id]
    }
  }
  req.journal.changed(req.identity, req.state, 'desired')
  return OK
}

/** `thing.deviceinfo.update`: params `[{"attrKey":"k","attrValue":"v"}]`; other tags are kept. */
export function tagsUpdate(req: UplinkRequest): Answer {
  const { params } = req
  if (!Array.isArray(params)) return fail(AlinkCodes.paramsNotObject, 'params must be an array')
  const tags: Array<[string, string]> = []
  for (const tag of params) {
    if (!isRecord(tag) || !isKey(tag.attrKey) || typeof tag.attrValue !== 'string') {
      return fail(AlinkCodes.invalidParams, 'each tag must be {"attrKey":..,"attrValue":..}')
    }
    tags.push([tag.attrKey, tag.attrValue])
  }
  for (const [key, value] of tags) req.state.tags[key] = value
  req.journal.changed(req.identity, req.state, 'tags')
  return OK
}

/** `thing.deviceinfo.delete`: params `[{"attrKey":"k"}]`. */
export function tagsDelete(req: UplinkRequest): Answer {
  const { params } = req
  if (!Array.isArray(params)) return fail(AlinkCodes.paramsNotObject, 'params must be an array')
  if (!params.every((tag) => isRecord(tag) && isKey(tag.attrKey))) {
    return fail(AlinkCodes.invalidParams, 'each entry must be {"attrKey":..}')
  }
  for (const tag of params as Array<{ attrKey: string }>) delete req.state.tags[tag.attrKey]
  req.journal.changed(req.identity, req.state, 'tags')
  return OK
}

function isKey(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 128
}

/**
 * `thing.config.get`: data `{configId, configSize, sign, signMethod:"Sha256", url, getType:"file"}`.
 * A product without a configuration answers 200 with empty data [emulator choice: the docs do
 * not say what the platform answers then].
 */
export function configGet(req: UplinkRequest): Answer {
  return { code: AlinkCodes.success, data: req.configOffer(req.identity.productKey) ?? {} }
}

/**
 * `thing.dsltemplate.get`: "reply data is the full TSL JSON". A product without a model answers
 * with a TSL holding only the built-ins, as every platform product has one.
 */
export function dslTemplateGet(req: UplinkRequest): Answer {
  const { productKey } = req.identity
  const model = req.model ?? new ProductTsl({})
  return { code: AlinkCodes.success, data: model.document(productKey) }
}
