import { LinkkitError, redactUrl } from '@linkkit/core'
import type { BodyRing } from './body-ring.js'
import { HttpExchange } from './http-exchange.js'
import type { DownloadTlsOptions } from './options.js'
import type { ResponseHead } from './response-reader.js'

/** Redirects followed per request, as many as browsers and got follow. */
const MAX_REDIRECTS = 10

/** What one firmware GET needs. */
export interface HttpGetOptions {
  url: URL
  /** The `Range` header value. */
  range: string
  tls: DownloadTlsOptions
  allowHttp: boolean
  /** The URL with its query string redacted, for messages. */
  where: string
  /** A ring the download's exchanges share (a signed MD5 offer's digest worker reads it); else each has its own. */
  ring?: BodyRing | undefined
}

/** A final response (after redirects): its head, and its body read once. */
export interface FirmwareResponse extends ResponseHead {
  /** Body chunks, each valid until the next `next()` (they are views of a reused ring). */
  body: AsyncIterator<Buffer>
}

/**
 * One GET, following redirects, each request on its own connection read by HttpExchange (`net`/
 * `tls` with `onread` and a strict response reader of our own). The firmware path does not use
 * got (its import alone costs a device about 15 MiB of RSS) nor Node's http client (a fresh 64 KiB
 * buffer per socket read, about 32 MiB of them dead at a download's peak): docs/performance.md,
 * "FOTA download". A firmware GET needs little: a Range header, redirects that never downgrade to
 * http, TLS options and a body.
 *
 * `destroy(error)` ends the request and its response at any point: `response()` rejects with it,
 * and a body being read rejects with it.
 */
export class HttpGet {
  readonly #options: HttpGetOptions
  #exchange: HttpExchange | undefined
  #destroyed: Error | undefined

  constructor(options: HttpGetOptions) {
    this.#options = options
  }

  /** The final response (after redirects); its body is unread. */
  async response(): Promise<FirmwareResponse> {
    let url = this.#options.url
    for (let redirects = 0; ; redirects += 1) {
      const exchange = this.#get(url)
      const head = await exchange.head
      const location = head.headers.location
      if (!isRedirect(head.statusCode) || location === undefined) return { ...head, body: exchange.body() }
      exchange.destroy()
      const status = head.statusCode
      if (redirects === MAX_REDIRECTS) {
        throw this.#refused(status, `redirected more than ${MAX_REDIRECTS} times`)
      }
      url = this.#nextUrl(url, location, status)
    }
  }

  /** Ends the request or the response being read, with `error`. Idempotent. */
  destroy(error?: Error): void {
    this.#destroyed ??= error ?? new Error('request destroyed')
    this.#exchange?.destroy(this.#destroyed)
  }

  /** Whether the response body was read to its end. */
  get complete(): boolean {
    return this.#exchange?.complete === true
  }

  /**
   * Where a redirect leads. What a retry cannot change is thrown as a LinkkitError, which the
   * attempt rethrows without retrying: a downgrade from https to http (whatever `allowHttp`
   * says: the offer's URL chose TLS), http without `allowHttp`, an invalid or non-HTTP target.
   * Messages show the targets redacted (a signed URL's query string holds credentials).
   */
  #nextUrl(from: URL, location: string, status: number): URL {
    let next: URL
    try {
      next = new URL(location, from)
    } catch {
      throw this.#refused(status, 'redirected to an invalid URL')
    }
    const to = redactUrl(next.href)
    if (next.protocol === 'http:' && (from.protocol === 'https:' || !this.#options.allowHttp)) {
      const why = from.protocol === 'https:' ? 'from https ' : ''
      throw new LinkkitError(
        'ERR_HTTP_NOT_ALLOWED',
        `firmware server ${this.#options.where} redirected ${why}to plain http (${to}); refused`,
        { httpStatus: status },
      )
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw this.#refused(status, `redirected to an unsupported protocol (${to})`)
    }
    return next
  }

  #refused(status: number, why: string): LinkkitError {
    return new LinkkitError('ERR_DOWNLOAD_HTTP_STATUS', `firmware server ${this.#options.where} ${why}`, {
      httpStatus: status,
    })
  }

  #get(url: URL): HttpExchange {
    const exchange = new HttpExchange(url, this.#options.range, this.#options.tls, this.#options.ring)
    this.#exchange = exchange
    if (this.#destroyed !== undefined) exchange.destroy(this.#destroyed)
    return exchange
  }
}

function isRedirect(status: number | undefined): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308
}
