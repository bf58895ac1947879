import type { EventDef, Param, Property, ServiceDef, TslParts } from './document.js'

const SCHEMA = 'https://iotx-tsl.oss-ap-southeast-1.aliyuncs.com/schema.json'

type Json = Record<string, unknown>

/** Copies the optional fields that are set; JSON leaves out the others anyway. */
function named(f: { identifier: string; name: string | undefined; desc?: string | undefined }): Json {
  const out: Json = { identifier: f.identifier }
  if (f.name !== undefined) out.name = f.name
  if (f.desc !== undefined) out.desc = f.desc
  return out
}

const param = (p: Param): Json => ({ ...named(p), dataType: p.written })

const property = (p: Property): Json => ({
  ...named(p),
  accessMode: p.accessMode,
  required: p.required,
  dataType: p.written,
})

const event = (e: EventDef): Json => ({
  ...named(e),
  type: e.type,
  required: e.required,
  method: `thing.event.${e.identifier}.post`,
  outputData: e.outputData.map(param),
})

const service = (s: ServiceDef): Json => ({
  ...named(s),
  callType: s.callType,
  required: s.required,
  method: `thing.service.${s.identifier}`,
  inputData: s.inputData.map(param),
  outputData: s.outputData.map(param),
})

/**
 * The TSL document of `thing.dsltemplate.get` (docs/protocol.md §2.3, §2.5), shaped like the
 * platform's export. It always holds the three built-ins, first in their lists: the service `set`
 * (input: the writable properties), the service `get` (input: the property identifiers, output:
 * the properties) and the event `post` (output: the properties).
 */
export function renderTsl(parts: TslParts, productKey: string): Json {
  const properties = parts.properties.map(param)
  const builtIn = (identifier: string) => ({ identifier, name: identifier, required: true })
  return {
    schema: SCHEMA,
    profile: { productKey },
    properties: parts.properties.map(property),
    events: [
      { ...builtIn('post'), type: 'info', method: 'thing.event.property.post', outputData: properties },
      ...parts.events.map(event),
    ],
    services: [
      {
        ...builtIn('set'),
        callType: 'async',
        method: 'thing.service.property.set',
        inputData: parts.properties.filter((p) => p.accessMode === 'rw').map(param),
        outputData: [],
      },
      {
        ...builtIn('get'),
        callType: 'async',
        method: 'thing.service.property.get',
        inputData: parts.properties.map((p) => p.identifier),
        outputData: properties,
      },
      ...parts.services.map(service),
    ],
  }
}
