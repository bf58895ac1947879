/** A clientId split at its bars: `<base>|k1=v1,k2=v2,…|` (docs/protocol.md §1.2). */
export interface ClientIdParts {
  /** Everything before the first `|`: what the password signs as `clientId`. */
  base: string
  /** The `key=value` parameters, unknown keys included; a key without `=` has the value `''`. */
  params: Record<string, string>
}

/**
 * Reads a clientId. The parameters run from the first `|` to a closing `|` at the very end, so a
 * value may itself hold a bar: the vendor Node SDK sends `lan=JS|WX` or `lan=JS|Broswer ` from a
 * mini-program or a browser. Parameters are separated by commas; an empty one is skipped and a
 * repeated key keeps its last value. A clientId without a bar is all base.
 */
export function parseClientId(clientId: string): ClientIdParts {
  const bar = clientId.indexOf('|')
  if (bar === -1) return { base: clientId, params: {} }
  const end = clientId.length > bar + 1 && clientId.endsWith('|') ? clientId.length - 1 : clientId.length
  const params: Record<string, string> = {}
  for (const pair of clientId.slice(bar + 1, end).split(',')) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    const [key, value] = eq === -1 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)]
    // A key such as `__proto__` stays a plain entry of the record.
    Object.defineProperty(params, key, { value, enumerable: true, writable: true, configurable: true })
  }
  return { base: clientId.slice(0, bar), params }
}
