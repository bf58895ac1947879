import { refusedOption } from '@linkkit/core'
import { urlHost } from './servers.js'

/**
 * Checks and normalises the public base URL that firmware and config-file URLs start with: an
 * `http:` or `https:` origin, optionally with a path (a reverse proxy's prefix), without
 * credentials, query or fragment. The result has no trailing slash and no port when the port is
 * its scheme's default: the C SDK 3.x HTTP client takes everything between `://` and the first
 * `/` as the host name and always dials 80 (443 with TLS), so `http://host:80/…` would break it
 * (docs/protocol.md, file server quirks).
 */
export function publicBaseUrl(value: unknown, name: string): string {
  const fail = (rule: string) => refusedOption(name, rule)
  if (typeof value !== 'string' || value.trim() === '') throw fail('must be a non-empty URL')
  let url: URL
  try {
    url = new URL(value.trim())
  } catch {
    throw fail('must be an absolute http:// or https:// URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw fail('must be an http:// or https:// URL')
  if (url.username !== '' || url.password !== '') throw fail('must not carry credentials')
  if (url.search !== '' || url.hash !== '' || value.includes('?') || value.includes('#')) {
    throw fail('must not carry a query or fragment')
  }
  // URL drops a scheme's default port by itself: new URL('http://h:80').origin is 'http://h'.
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
}

/** The origin of a server listening on `host:port` (a wildcard bind is reached on loopback). */
export function listenOrigin(host: string, port: number): string {
  return new URL(`http://${urlHost(host)}:${port}`).origin
}
