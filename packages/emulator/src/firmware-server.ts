import { createServer, type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http'
import type { AddressInfo } from 'node:net'
import { LinkkitError, refusedOption } from '@linkkit/core'
import { sendBody } from './firmware-body.js'
import { FirmwareFaults } from './firmware-faults.js'
import { parseRange } from './firmware-range.js'
import {
  type FirmwareFileInfo,
  type FirmwareFileStats,
  FirmwareStore,
  type SharedFileInfo,
  type StoredFirmware,
} from './firmware-store.js'
import { listenOrigin, publicBaseUrl } from './public-url.js'

/** Options of a `FirmwareServer`. */
export interface FirmwareServerOptions {
  /** Path the files live under; starts and ends with `/`. @default '/ota/' */
  pathPrefix?: string
  /**
   * Origin (optionally with a path) put in file URLs, e.g. the emulator's `firmwareBaseUrl`; a
   * scheme's default port is left out. `start()` sets it to its own address.
   */
  baseUrl?: string
}

/** Options of `FirmwareServer.start()`, which listens on its own port. */
export interface FirmwareServerListenOptions extends FirmwareServerOptions {
  /** @default '127.0.0.1' */
  host?: string
  /** @default 0 (a free port) */
  port?: number
}

/**
 * Serves firmware images over HTTP/1.1 the way the C SDKs need it (docs/protocol.md §3.6, §6 item 7):
 * an exact `Content-Length` in canonical case, never chunked, never compressed, `Range` answered
 * with 206 and an exact slice, 416 when unsatisfiable, HEAD supported. Listens itself
 * (`FirmwareServer.start()`) or is mounted on a shared server through `handle(req, res)`.
 * Query strings (OSS-style `?Expires=..&Signature=..`) are accepted and ignored.
 */
export class FirmwareServer {
  /** Faults applied to every file; `faultsFor(id)` holds per-file ones. */
  readonly faults = new FirmwareFaults()
  /** Path prefix of every file URL, e.g. `/ota/`. */
  readonly pathPrefix: string
  /** `http://host:port` the URLs start with (no port when it is the scheme's default), once listening or mounted. */
  baseUrl: string
  readonly #store = new FirmwareStore()
  readonly #open = new Set<ServerResponse>()
  readonly #closing = new AbortController()
  #http: Server | undefined
  #closed: Promise<void> | undefined

  constructor(options: FirmwareServerOptions = {}) {
    const prefix = options.pathPrefix ?? '/ota/'
    if (!prefix.startsWith('/') || !prefix.endsWith('/'))
      throw refusedOption('pathPrefix', 'must start and end with "/"')
    this.pathPrefix = prefix
    this.baseUrl = options.baseUrl === undefined ? '' : publicBaseUrl(options.baseUrl, 'baseUrl')
  }

  /** Starts a server of its own on `host:port` (a free loopback port by default). */
  static async start(options: FirmwareServerListenOptions = {}): Promise<FirmwareServer> {
    const server = new FirmwareServer(options)
    const http = createServer((req, res) => {
      if (!server.handle(req, res)) answer(res, 404)
    })
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject)
      http.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        http.off('error', reject)
        resolve()
      })
    })
    const { address, port } = http.address() as AddressInfo
    server.baseUrl = listenOrigin(address, port)
    server.#http = http
    return server
  }

  /** The origin file URLs start with. */
  get url(): string {
    return this.baseUrl
  }

  /** Holds `data` (not copied: do not mutate it afterwards) and returns its URL and digests. */
  addFile(file: { data: Uint8Array; name?: string }): FirmwareFileInfo {
    if (this.baseUrl === '')
      throw new LinkkitError('ERR_INVALID_OPTIONS', 'FirmwareServer has no baseUrl yet')
    const name = file.name ?? 'firmware.bin'
    if (name === '' || /[/?#\s]/.test(name)) {
      throw new LinkkitError('ERR_INVALID_ARGUMENT', 'file name must be non-empty without / ? # or spaces')
    }
    const stored = this.#store.add(file.data, name)
    const { id, md5, sha256 } = stored
    const url = `${this.baseUrl}${this.pathPrefix}${id}/${encodeURIComponent(name)}`
    return { id, name, url, size: file.data.length, md5, sha256 }
  }

  /**
   * Serves a file another node added (scale-out) under the same id: its bytes are fetched once, on
   * the first request, and must match `info`'s size and MD5. Returns its URL on this server.
   */
  adoptFile(info: SharedFileInfo, fetch: () => Promise<Uint8Array | undefined>): string {
    this.#store.adopt(info, fetch)
    return `${this.baseUrl}${this.pathPrefix}${info.id}/${encodeURIComponent(info.name)}`
  }

  /** The bytes of a file this server holds (undefined for an unknown one or one not fetched yet). */
  fileData(id: string): Uint8Array | undefined {
    return this.#store.get(id)?.data
  }

  /** Stops serving a file; false when there was none. */
  removeFile(id: string): boolean {
    return this.#store.delete(id)
  }

  /** Live counters of one file. */
  stats(id: string): FirmwareFileStats {
    return this.#file(id).stats
  }

  /** Faults that hit only this file. */
  faultsFor(id: string): FirmwareFaults {
    return this.#file(id).faults
  }

  /** Serves `req` when its path is under the prefix and returns true; leaves it alone otherwise. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/'
    if (!path.startsWith(this.pathPrefix)) return false
    const id = path.slice(this.pathPrefix.length).split('/', 1)[0] ?? ''
    const file = this.#store.get(id)
    if (file === undefined || this.#closing.signal.aborted) {
      answer(res, 404)
      return true
    }
    this.#open.add(res)
    res.once('close', () => this.#open.delete(res))
    file.stats.requests += 1
    if (req.headers.range !== undefined) file.stats.ranges.push(req.headers.range)
    if (file.data !== undefined) this.#serve(req, res, file)
    else
      void file.load().then((ok) => {
        if (res.destroyed) return
        if (ok) this.#serve(req, res, file)
        else {
          file.stats.statuses.push(503)
          answer(res, 503)
        }
      })
    return true
  }

  /** Stops serving: destroys open responses and, when listening itself, frees the port. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= this.#shutdown()
    return this.#closed
  }

  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  async #shutdown(): Promise<void> {
    this.#closing.abort()
    for (const res of this.#open) res.destroy()
    const http = this.#http
    if (http === undefined) return
    await new Promise<void>((resolve) => {
      http.close(() => resolve())
      http.closeAllConnections()
    })
  }

  #file(id: string): StoredFirmware {
    const file = this.#store.get(id)
    if (file === undefined) throw new LinkkitError('ERR_INVALID_ARGUMENT', `no firmware file with id ${id}`)
    return file
  }

  #serve(req: IncomingMessage, res: ServerResponse, file: StoredFirmware): void {
    const record = (status: number) => file.stats.statuses.push(status)
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      record(405)
      answer(res, 405, { Allow: 'GET, HEAD' })
      return
    }
    const faulted = file.faults.takeStatus() ?? this.faults.takeStatus()
    if (faulted !== undefined) {
      record(faulted)
      answer(res, faulted)
      return
    }
    const size = file.servedSize(this.faults)
    const range = parseRange(req.headers.range, size)
    if (range.kind === 'unsatisfiable') {
      record(416)
      answer(res, 416, { 'Content-Range': `bytes */${size}` })
      return
    }
    const [start, end] = range.kind === 'partial' ? [range.start, range.end] : [0, size - 1]
    const headers: Record<string, string> = {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(end - start + 1),
      'Accept-Ranges': 'bytes',
      ETag: `"${file.md5}"`,
    }
    if (range.kind === 'partial') headers['Content-Range'] = `bytes ${start}-${end}/${size}`
    const status = range.kind === 'partial' ? 206 : 200
    record(status)
    res.writeHead(status, headers)
    if (req.method === 'HEAD' || end < start) {
      res.end()
      return
    }
    file.stats.sending++
    sendBody({ res, file, global: this.faults, start, end, closing: this.#closing.signal })
      .catch(() => res.destroy())
      .finally(() => {
        file.stats.sending--
      })
  }
}

function answer(res: ServerResponse, status: number, extra: Record<string, string> = {}): void {
  const body = `${STATUS_CODES[status] ?? 'Error'}\n`
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    ...extra,
  })
  res.end(body)
}
