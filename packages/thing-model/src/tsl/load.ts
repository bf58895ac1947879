import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { isLinkkitError, LinkkitError } from '@linkkit/core'
import { invalidTsl } from './document-error.js'
import { parseDocument } from './parse-document.js'
import { ThingModel } from './thing-model.js'
import type { TslDocument } from './types.js'

/** What `loadThingModel` accepts: a TSL document object, a path or file URL to its JSON, or a model. */
export type ThingModelSource = TslDocument | object | string | URL | ThingModel

/**
 * Checks a TSL document (PROTOCOL §2.5) and compiles it. A `ThingModel` is returned as is.
 * Throws `ERR_TSL_INVALID` with `details: { path, rule }` (e.g. `{ path: "properties[2].dataType.specs.min",
 * rule: "number" }`, rules listed in `TslDocumentRule`) when the document is malformed.
 */
export function parseThingModel(document: TslDocument | object | ThingModel): ThingModel {
  if (document instanceof ThingModel) return document
  return new ThingModel(parseDocument(document))
}

/**
 * Loads a thing model from a document object or a JSON file (path or `file:` URL) and compiles it.
 * Rejects with `ERR_TSL_INVALID`: rule `read` when the file cannot be read, `json` when it is not
 * JSON, otherwise as `parseThingModel`; messages from a file name it.
 */
export async function loadThingModel(source: ThingModelSource): Promise<ThingModel> {
  if (typeof source !== 'string' && !(source instanceof URL)) return parseThingModel(source)
  const file = source instanceof URL ? fileURLToPath(source) : source
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (cause) {
    throw invalidTsl('', 'read', `cannot read ${file}: ${(cause as Error).message}`, cause)
  }
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch (cause) {
    throw invalidTsl('', 'json', `${file} is not valid JSON: ${(cause as Error).message}`, cause)
  }
  try {
    return new ThingModel(parseDocument(document))
  } catch (error) {
    if (!isLinkkitError(error, 'ERR_TSL_INVALID')) throw error
    throw new LinkkitError('ERR_TSL_INVALID', `${file}: ${error.message}`, {
      details: error.details,
      cause: error,
    })
  }
}
