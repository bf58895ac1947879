import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { isIP } from 'node:net'
import { invalidOption, refusedOption } from '@linkkit/core'

/** Visible ASCII without spaces, so the token travels unchanged in a header and a shell variable. */
const TOKEN = /^[\x21-\x7e]{16,256}$/

/**
 * The control API's token: `option` when it is one, a fresh random one when it is undefined, none
 * for `false`. Without a token only loopback may be bound: anyone who reaches the port could
 * otherwise drive the platform. Throws ERR_INVALID_OPTIONS.
 */
export function controlTokenOf(option: string | false | undefined, host: string): string | undefined {
  if (option === undefined) return randomToken()
  if (option === false) {
    if (isLoopbackHost(host)) return undefined
    throw refusedOption(
      'controlToken',
      `may be false only on a loopback host, not ${host}: a control API without a token answers anyone who reaches it`,
    )
  }
  if (typeof option !== 'string' || !TOKEN.test(option)) {
    throw invalidOption('controlToken', '16-256 visible ASCII characters without spaces')
  }
  return option
}

/** `localhost`, 127.0.0.0/8, `::1` and their IPv4-mapped forms. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase()
  if (bare === 'localhost' || bare === '::1') return true
  const v4 = bare.startsWith('::ffff:') ? bare.slice('::ffff:'.length) : bare
  return isIP(v4) === 4 && v4.startsWith('127.')
}

/** Whether an `Authorization` header carries `Bearer <token>`; compared in constant time. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '')
  if (match?.[1] === undefined) return false
  // Digests have one length, so neither the comparison nor its time depends on the guess's length.
  return timingSafeEqual(digest(match[1]), digest(token))
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

/** 32 base64url characters (192 bits), never starting with '-', which a command line would read as an option. */
function randomToken(): string {
  for (;;) {
    const token = randomBytes(24).toString('base64url')
    if (!token.startsWith('-')) return token
  }
}
