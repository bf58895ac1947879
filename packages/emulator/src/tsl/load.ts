import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { isLinkkitError, LinkkitError } from '@linkkit/core'
import { documentError } from './errors.js'
import { ProductTsl } from './model.js'

/**
 * A product's thing model as `ProductRecord.thingModel` and `emu.setThingModel()` take it: a TSL
 * document object (docs/protocol.md §2.5) as the platform exports it, or the path (or `file:` URL)
 * of its JSON file. A model compiled by `@linkkit/thing-model` is a TSL document too: its
 * `properties`, `events` and `services` carry the fields the emulator reads. The emulator checks
 * the document with its own parser; a malformed one is refused with ERR_TSL_INVALID.
 */
export type ThingModelInput = object | string

/** Reads a document object at once; throws ERR_TSL_INVALID. */
export function readTslObject(document: object): ProductTsl {
  return new ProductTsl(document)
}

/** Reads a TSL JSON file; rejects with ERR_TSL_INVALID (rule `read`, `json`, or the document's). */
export async function readTslFile(path: string | URL): Promise<ProductTsl> {
  const file = path instanceof URL ? fileURLToPath(path) : path
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (cause) {
    throw documentError(
      '',
      'read',
      `${file} cannot be read (${(cause as NodeJS.ErrnoException).code ?? cause})`,
      cause,
    )
  }
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch (cause) {
    throw documentError('', 'json', `${file} is not JSON`, cause)
  }
  try {
    return new ProductTsl(document)
  } catch (error) {
    if (!isLinkkitError(error, 'ERR_TSL_INVALID')) throw error
    throw new LinkkitError('ERR_TSL_INVALID', `${file}: ${error.message}`, {
      details: error.details,
      cause: error,
    })
  }
}
