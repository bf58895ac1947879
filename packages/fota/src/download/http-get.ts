import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { LinkkitError, redactUrl } from '@linkkit/core'
import type { DownloadTlsOptions } from './options.js'

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
}

/**
 * One GET on Node's own `http`/`https`, following redirects. The firmware path uses them directly
 * rather than got: got's import alone costs a device about 15 MiB of RSS and its per-chunk work
 * shows in the download time (docs/performance.md, "FOTA"), and a firmware GET needs little of it:
 * a Range header, redirects that never downgrade to http, TLS options and a body stream.
 *
 * `destroy(error)` ends the request and its response at any point: `response()` rejects with it,
 * and a body being read rejects with it.
 */
export class HttpGet {
  readonly #options: HttpGetOptions
  #request: ClientRequest | undefined
  #response: IncomingMessage | undefined
  #destroyed: Error | undefined

  constructor(options: HttpGetOptions) {
    this.#options = options
  }

  /** The final response (after redirects); its body is unread. */
  async response(): Promise<IncomingMessage> {
    let url = this.#options.url
    for (let redirects = 0; ; redirects += 1) {
      const response = await this.#get(url)
      const location = response.headers.location
      if (!isRedirect(response.statusCode) || location === undefined) return response
      response.resume()
      const status = response.statusCode as number
      if (redirects === MAX_REDIRECTS) {
        throw this.#refused(status, `redirected more than ${MAX_REDIRECTS} times`)
      }
      url = this.#nextUrl(url, location, status)
    }
  }

  /** Ends the request or the response being read, with `error`. Idempotent. */
  destroy(error?: Error): void {
    this.#destroyed ??= error ?? new Error('request destroyed')
    this.#request?.destroy(this.#destroyed)
    this.#response?.destroy(this.#destroyed)
  }

  /** Whether the response body was read to its end. */
  get complete(): boolean {
    return this.#response?.readableEnded === true
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

  #get(url: URL): Promise<IncomingMessage> {
    if (this.#destroyed !== undefined) return Promise.reject(this.#destroyed)
    const { range, tls } = this.#options
    const headers = { range, accept: '*/*', 'accept-encoding': 'identity' }
    const request =
      url.protocol === 'https:'
        ? httpsRequest(url, {
            headers,
            rejectUnauthorized: tls.rejectUnauthorized !== false,
            ...(tls.ca === undefined ? {} : { ca: tls.ca }),
          })
        : httpRequest(url, { headers })
    this.#request = request
    return new Promise<IncomingMessage>((resolve, reject) => {
      request.once('error', reject)
      request.once('response', (response) => {
        // A later socket error reaches the response (its body read rejects); this keeps it off the request.
        request.removeListener('error', reject)
        request.on('error', () => {})
        // Errors of a body nobody reads (a refused status) must not become uncaught; readers see them.
        response.on('error', () => {})
        this.#response = response
        if (this.#destroyed !== undefined) response.destroy(this.#destroyed)
        resolve(response)
      })
      request.end()
    })
  }
}

function isRedirect(status: number | undefined): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308
}
