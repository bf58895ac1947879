/** Replaces the query string of every URL in `text`: signed URLs carry their credentials there. */
export function redactText(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#]*)\?[^\s#]*/gi, '$1?[redacted]')
}

/** What `detachedCause` keeps of an error: its message (query strings cut) and its system code. */
export interface DetachedCause extends Error {
  /** The system or library code (`ECONNRESET`, `ERR_NON_2XX_2XX_RESPONSE`, a certificate error…), when there was one. */
  code?: string
}

/**
 * A stand-in for an error thrown by got or a socket, safe to keep as a `cause`, print or log. got's
 * errors hold the request options (a signed URL, a registration form with its `random` and `sign`)
 * and the response (a body that may carry a secret), and `console.error` prints all of it. Only the
 * message, with URL query strings cut, and the system code (ECONNRESET, a certificate error…) survive.
 * A body that failed to parse is quoted in V8's message, so that message is replaced.
 */
export function detachedCause(error: unknown): DetachedCause {
  const code =
    error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined
  const message =
    code === 'ERR_BODY_PARSE_FAILURE'
      ? 'the response body is not valid JSON'
      : redactText(error instanceof Error ? error.message : String(error))
  return Object.assign(new Error(message), code === undefined ? {} : { code })
}
