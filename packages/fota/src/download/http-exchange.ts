import { isIP, connect as netConnect, type OnReadOpts, type Socket } from 'node:net'
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls'
import { BodyRing } from './body-ring.js'
import type { DownloadTlsOptions } from './options.js'
import { type ResponseHead, ResponseReader } from './response-reader.js'

/** What the socket reads into, reused for every read (Node's own reads are 64 KiB). */
const READ_BYTES = 64 * 1024
/** The ring between the socket and the sink, and the largest piece lent at once. */
const RING_BYTES = 1024 * 1024
const MAX_LOAN_BYTES = 256 * 1024
/** Reading pauses with less room than this and resumes with half the ring free. */
const PAUSE_BELOW = 2 * READ_BYTES

/** A ring made for one exchange (the usual case), or none given. */
function ownRing(): BodyRing {
  return new BodyRing(RING_BYTES, MAX_LOAN_BYTES)
}

/** A ring that a download's exchanges share, e.g. with the digest worker reading it in place. */
export function sharedBodyRing(memory: Buffer): BodyRing {
  return new BodyRing(memory, MAX_LOAN_BYTES)
}

/**
 * One GET on its own connection, `net`/`tls` with `onread`: the socket reads into one reused
 * buffer, ResponseReader parses it, and the body is copied into a BodyRing, so a download
 * allocates nothing per read (docs/performance.md, "FOTA download"). TLS is verified as
 * `https.request` does (the host name, `ca`, `rejectUnauthorized`).
 *
 * `head` resolves with the response's head, `body` is its body, each chunk valid until the next
 * `next()`. `destroy(error)` closes the connection; a pending `head` or body read rejects with it.
 *
 * A ring passed in (shared with a second reader, the signature's digest worker) is restarted, and
 * its room also waits for that reader: while it lags, the socket stays paused.
 */
export class HttpExchange {
  readonly head: Promise<ResponseHead>
  readonly #socket: Socket
  readonly #reader: ResponseReader
  readonly #ring: BodyRing
  #failure: Error | undefined
  #ended = false
  #paused = false
  /** Waiting for the ring's second reader to free room (the socket is paused meanwhile). */
  #waitingForRoom = false
  #waiter: { resolve(result: IteratorResult<Buffer>): void; reject(error: Error): void } | undefined
  #resolveHead!: (head: ResponseHead) => void
  #rejectHead!: (error: Error) => void

  constructor(url: URL, range: string, tls: DownloadTlsOptions, ring?: BodyRing) {
    this.#ring = ring ?? ownRing()
    this.#ring.restart()
    this.head = new Promise<ResponseHead>((resolve, reject) => {
      this.#resolveHead = resolve
      this.#rejectHead = reject
    })
    // A failure before anyone awaits the head must not become an unhandled rejection.
    this.head.catch(() => {})
    this.#reader = new ResponseReader({
      head: (head) => this.#resolveHead(head),
      body: (bytes) => this.#ring.write(bytes),
      end: () => {
        this.#ended = true
      },
    })
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
    const https = url.protocol === 'https:'
    const port = Number(url.port || (https ? 443 : 80))
    const onread: OnReadOpts = {
      buffer: Buffer.allocUnsafe(READ_BYTES),
      callback: (n: number, buffer: Uint8Array) => this.#onRead(n, buffer),
    }
    this.#socket = https
      ? tlsConnect(tlsOptions(host, port, onread, tls))
      : netConnect({ host, port, onread })
    this.#socket.on('error', (error) => this.destroy(error))
    this.#socket.on('end', () => this.#onEof())
    this.#socket.on('close', () => this.#onEof())
    this.#socket.write(requestHead(url, range), 'latin1')
  }

  /** Whether the body was read to its end. */
  get complete(): boolean {
    return this.#ended && this.#ring.empty && this.#failure === undefined
  }

  /** The body, once. */
  body(): AsyncIterator<Buffer> {
    return { next: () => this.#next() }
  }

  /** Closes the connection; what waits rejects with `error`. Idempotent. */
  destroy(error: Error = new Error('request destroyed')): void {
    if (this.#failure !== undefined) return
    this.#failure = error
    this.#socket.destroy()
    this.#rejectHead(error)
    const waiter = this.#waiter
    this.#waiter = undefined
    waiter?.reject(error)
  }

  /** Always `true`: pausing is done here, with the ring's room in view. */
  #onRead(n: number, buffer: Uint8Array): boolean {
    if (this.#failure !== undefined) return true
    try {
      this.#reader.feed(buffer.subarray(0, n))
    } catch (error) {
      this.destroy(error as Error)
      return true
    }
    if (this.#reader.done) this.#socket.destroy()
    else if (!this.#paused && this.#ring.free < PAUSE_BELOW) {
      this.#paused = true
      this.#socket.pause()
    }
    this.#wake()
    return true
  }

  #onEof(): void {
    if (this.#failure !== undefined || this.#reader.done) return
    try {
      this.#reader.eof()
    } catch (error) {
      this.destroy(error as Error)
      return
    }
    this.#wake()
  }

  #wake(): void {
    const waiter = this.#waiter
    if (waiter === undefined) return
    const value = this.#ring.take()
    if (value === undefined && !this.#ended) return
    this.#waiter = undefined
    waiter.resolve(value === undefined ? { done: true, value: undefined } : { done: false, value })
  }

  /**
   * Resumes reading once half the ring is free. When the loop has taken everything and the ring's
   * second reader still holds it, only that reader can make room: its progress is waited for.
   */
  #maybeResume(): void {
    if (!this.#paused || this.#failure !== undefined) return
    if (this.#ring.free >= this.#ring.size / 2) {
      this.#paused = false
      this.#socket.resume()
    } else if (!this.#waitingForRoom && this.#ring.empty && this.#ring.readerLags) {
      this.#waitingForRoom = true
      const again = () => {
        this.#waitingForRoom = false
        this.#maybeResume()
      }
      void this.#ring.progress().then(again, again)
    }
  }

  #next(): Promise<IteratorResult<Buffer>> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure)
    const value = this.#ring.take()
    this.#maybeResume()
    if (value !== undefined) return Promise.resolve({ done: false, value })
    if (this.#ended) return Promise.resolve({ done: true, value: undefined })
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject }
    })
  }
}

/** Node's types omit `onread` from tls.connect's options; it works there as on net (Node 20, 24). */
function tlsOptions(
  host: string,
  port: number,
  onread: OnReadOpts,
  tls: DownloadTlsOptions,
): ConnectionOptions {
  const options: ConnectionOptions & { onread: OnReadOpts } = {
    host,
    port,
    onread,
    ...(isIP(host) === 0 ? { servername: host } : {}),
    rejectUnauthorized: tls.rejectUnauthorized !== false,
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
  }
  return options
}

/**
 * The request: Range, identity encoding, one response per connection. User info in the URL is sent
 * as Basic authorization, as Node's http client does. URL parsing has percent-encoded any CR/LF.
 */
function requestHead(url: URL, range: string): string {
  let head = `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nRange: ${range}\r\n`
  if (url.username !== '' || url.password !== '') {
    const user = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
    head += `Authorization: Basic ${Buffer.from(user).toString('base64')}\r\n`
  }
  return `${head}Accept: */*\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n`
}
