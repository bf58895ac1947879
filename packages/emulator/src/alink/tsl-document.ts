import type { ThingModel, ThingParam, TslDocument } from '@linkkit/thing-model'

const SCHEMA = 'https://iotx-tsl.oss-ap-southeast-1.aliyuncs.com/schema.json'

function param(p: ThingParam) {
  return { identifier: p.identifier, name: p.name, dataType: p.dataType }
}

/**
 * The TSL document `thing.dsltemplate.get` answers with (docs/protocol.md §2.5), rendered from the
 * compiled model so a model given as a `ThingModel` works too. Like the platform's export it
 * carries the built-ins: service `set`, service `get` (whose inputData is a list of identifiers)
 * and event `post`.
 */
export function renderTsl(model: ThingModel, productKey: string): TslDocument {
  return {
    schema: SCHEMA,
    profile: { productKey },
    properties: model.properties.map((p) => ({
      identifier: p.identifier,
      name: p.name,
      accessMode: p.accessMode,
      required: p.required,
      dataType: p.dataType,
    })),
    events: model.events.map((e) => ({
      identifier: e.identifier,
      name: e.name,
      type: e.type,
      required: e.builtIn,
      method: e.method,
      outputData: e.outputData.map(param),
    })),
    services: model.services.map((s) => ({
      identifier: s.identifier,
      name: s.name,
      callType: s.callType,
      required: s.builtIn,
      method: s.method,
      inputData:
        s.builtIn && s.identifier === 'get'
          ? model.properties.map((p) => p.identifier)
          : s.inputData.map(param),
      outputData: s.outputData.map(param),
    })),
  }
}
