/** Limits of a response head, as Node's http client has them (16 KiB) and a header count. */
export const MAX_HEAD_BYTES = 16 * 1024
export const MAX_HEADERS = 100
/** A chunk-size line (hex digits and extensions) or a trailer line. */
const MAX_LINE_BYTES = 1024

/** A response's status and headers: names lower-cased, repeated headers joined with `, `. */
export interface ResponseHead {
  statusCode: number
  headers: Record<string, string | undefined>
}

export interface ResponseEvents {
  head(head: ResponseHead): void
  /** Body bytes, a view of the caller's buffer: copy them before returning. */
  body(bytes: Uint8Array): void
  end(): void
}

type State = 'head' | 'length' | 'close' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'done'

const STATUS_LINE = /^HTTP\/1\.[01] ([1-5]\d\d)(?: .*)?$/
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*$/
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,12})(?:[ \t]*;.*)?$/

/**
 * A strict HTTP/1.1 response reader for one firmware GET on its own connection (`Connection:
 * close`): a status line, headers within the limits above, then a body framed by Content-Length,
 * chunked, or the end of the connection. Informational (1xx) answers are skipped. Anything else
 * (a bare LF, a folded or malformed header, both Content-Length and Transfer-Encoding, two
 * different lengths, a bad chunk size, a head over 16 KiB) throws `malformed(…)`. Bytes after the
 * body are ignored: the connection is closed after one response.
 */
export class ResponseReader {
  readonly #events: ResponseEvents
  #state: State = 'head'
  #head = Buffer.allocUnsafe(MAX_HEAD_BYTES)
  #headLength = 0
  #remaining = 0
  #line = ''
  #trailerBytes = 0

  constructor(events: ResponseEvents) {
    this.#events = events
  }

  get done(): boolean {
    return this.#state === 'done'
  }

  /** Reads `data` (a view of a reused buffer); throws on a malformed response. */
  feed(data: Uint8Array): void {
    let at = 0
    while (at < data.length && this.#state !== 'done') {
      switch (this.#state) {
        case 'head':
          at = this.#readHead(data, at)
          break
        case 'close':
          this.#events.body(data.subarray(at))
          at = data.length
          break
        case 'length':
        case 'chunk-data': {
          const n = Math.min(this.#remaining, data.length - at)
          this.#events.body(data.subarray(at, at + n))
          at += n
          this.#remaining -= n
          if (this.#remaining === 0) {
            if (this.#state === 'length') this.#finish()
            else this.#state = 'chunk-end'
          }
          break
        }
        default:
          at = this.#readLine(data, at)
      }
    }
  }

  /** The connection ended: ends a body framed by it; throws when the response is cut short. */
  eof(): void {
    if (this.#state === 'done') return
    if (this.#state === 'head')
      throw malformed('the connection closed before a complete response head', 'ECONNRESET')
    if (this.#state === 'close' || this.#state === 'length') {
      // A short Content-Length body ends here; the caller sees how many bytes it got.
      this.#finish()
      return
    }
    throw malformed('the connection closed inside a chunked body', 'ECONNRESET')
  }

  #finish(): void {
    this.#state = 'done'
    this.#events.end()
  }

  #readHead(data: Uint8Array, at: number): number {
    const before = this.#headLength
    const n = Math.min(data.length - at, MAX_HEAD_BYTES - before)
    this.#head.set(data.subarray(at, at + n), before)
    this.#headLength += n
    const end = this.#head
      .subarray(0, this.#headLength)
      .indexOf('\r\n\r\n', Math.max(0, before - 3), 'latin1')
    if (end === -1) {
      if (this.#headLength === MAX_HEAD_BYTES) throw malformed(`a response head over ${MAX_HEAD_BYTES} bytes`)
      return at + n
    }
    const used = end + 4 - before
    const head = parseHead(this.#head.toString('latin1', 0, end))
    this.#headLength = 0
    if (head.statusCode < 200) {
      if (head.statusCode === 101) throw malformed('an unasked protocol switch (101)')
      return at + used
    }
    this.#head = Buffer.alloc(0)
    this.#events.head(head)
    this.#startBody(head)
    return at + used
  }

  #startBody({ statusCode, headers }: ResponseHead): void {
    const encoding = headers['transfer-encoding']
    const length = headers['content-length']
    if (statusCode === 204 || statusCode === 304) {
      this.#finish()
    } else if (encoding !== undefined) {
      if (length !== undefined) throw malformed('both Content-Length and Transfer-Encoding')
      if (encoding.toLowerCase() !== 'chunked') throw malformed(`Transfer-Encoding "${encoding}"`)
      this.#state = 'chunk-size'
    } else if (length !== undefined) {
      if (!/^\d{1,15}$/.test(length)) throw malformed(`Content-Length "${length}"`)
      this.#remaining = Number(length)
      this.#state = 'length'
      if (this.#remaining === 0) this.#finish()
    } else {
      this.#state = 'close'
    }
  }

  /** Lines of the chunked framing: a size, the CRLF after a chunk's data, trailers. */
  #readLine(data: Uint8Array, at: number): number {
    const lf = data.indexOf(10, at)
    const end = lf === -1 ? data.length : lf
    this.#line += Buffer.from(data.buffer, data.byteOffset + at, end - at).toString('latin1')
    if (this.#line.length > MAX_LINE_BYTES + 1)
      throw malformed(`a chunked-body line over ${MAX_LINE_BYTES} bytes`)
    if (lf === -1) return data.length
    const line = this.#line
    this.#line = ''
    if (!line.endsWith('\r')) throw malformed('a bare LF in a chunked body')
    this.#onLine(line.slice(0, -1))
    return lf + 1
  }

  #onLine(line: string): void {
    if (this.#state === 'chunk-end') {
      if (line !== '') throw malformed('chunk data longer than its size')
      this.#state = 'chunk-size'
    } else if (this.#state === 'chunk-size') {
      const match = CHUNK_SIZE.exec(line)
      if (match === null || hasControl(line)) throw malformed('a bad chunk size line')
      this.#remaining = Number.parseInt(match[1] as string, 16)
      this.#state = this.#remaining === 0 ? 'trailers' : 'chunk-data'
    } else if (line === '') {
      this.#finish()
    } else {
      this.#trailerBytes += line.length + 2
      if (this.#trailerBytes > MAX_HEAD_BYTES || hasControl(line) || !HEADER_LINE.test(line)) {
        throw malformed('a bad or oversized trailer')
      }
    }
  }
}

function parseHead(text: string): ResponseHead {
  const lines = text.split('\r\n')
  const status = lines[0] as string
  const match = STATUS_LINE.exec(status)
  if (match === null || hasControl(status)) throw malformed('a bad status line')
  if (lines.length - 1 > MAX_HEADERS) throw malformed(`more than ${MAX_HEADERS} headers`)
  const headers: Record<string, string | undefined> = Object.create(null)
  for (let i = 1; i < lines.length; i += 1) {
    const header = HEADER_LINE.exec(lines[i] as string)
    if (header === null) throw malformed('a malformed header line')
    const name = (header[1] as string).toLowerCase()
    const value = header[2] as string
    if (hasControl(value)) throw malformed(`a control character in header ${name}`)
    const seen = headers[name]
    if (seen === undefined) headers[name] = value
    else if (name === 'content-length' || name === 'transfer-encoding' || name === 'location') {
      if (seen !== value) throw malformed(`two different ${name} headers`)
    } else headers[name] = `${seen}, ${value}`
  }
  return { statusCode: Number(match[1]), headers }
}

/** A malformed or cut-short response: a transport failure like Node's own parse errors. */
export function malformed(why: string, code = 'ERR_HTTP_MALFORMED'): Error {
  return Object.assign(new Error(`malformed HTTP response: ${why}`), { code })
}

/** Control characters but tab (CR and LF included: a line holds neither). */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i)
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return true
  }
  return false
}
