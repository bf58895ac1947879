import { LinkkitError } from '@linkkit/core'
import type { TslDocumentRule } from './codes.js'

/** Builds the `ERR_TSL_INVALID` raised for a malformed TSL document. */
export function invalidTsl(
  path: string,
  rule: TslDocumentRule,
  message: string,
  cause?: unknown,
): LinkkitError {
  const where = path === '' ? 'TSL document' : `TSL ${path}`
  return new LinkkitError('ERR_TSL_INVALID', `${where}: ${message} (rule ${rule})`, {
    details: { path, rule },
    cause,
  })
}

// Platform console rule: letters, digits and underscores; custom modules prefix `module:`
// (PROTOCOL §2.5). Identifiers of events and services end up in topics, so this also keeps / # + out.
const IDENTIFIER = /^(?:[A-Za-z0-9_]+:)?[A-Za-z0-9_]+$/

/** Checks an `identifier` field and that it is new in `seen`, which it then joins. */
export function checkIdentifier(value: unknown, path: string, seen: Set<string>): string {
  if (value === undefined) throw invalidTsl(path, 'required', 'identifier is missing')
  if (typeof value !== 'string') throw invalidTsl(path, 'type', 'identifier must be a string')
  if (!IDENTIFIER.test(value)) {
    throw invalidTsl(path, 'identifier', `identifier ${JSON.stringify(value)} must be letters, digits and _`)
  }
  if (seen.has(value)) throw invalidTsl(path, 'unique', `identifier "${value}" is defined twice`)
  seen.add(value)
  return value
}
