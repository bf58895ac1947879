import { createHash, randomBytes } from 'node:crypto'
import { FirmwareFaults } from './firmware-faults.js'

/** What `addFile` returns: everything an upgrade offer needs. Digests are lowercase hex. */
export interface FirmwareFileInfo {
  /** The file's id on the server. */
  id: string
  /** File name in its URL. */
  name: string
  /** Where it is served. */
  url: string
  /** Size in bytes. */
  size: number
  /** Lowercase hex MD5. */
  md5: string
  /** Lowercase hex SHA-256. */
  sha256: string
}

/** Per-file counters, so tests can prove there was no retry storm. */
export interface FirmwareFileStats {
  /** Requests for this file (GET and HEAD, including ones answered by a status fault). */
  requests: number
  /** Body bytes handed to sockets. */
  bytesSent: number
  /** The `Range` header of every request that sent one, in arrival order. */
  ranges: string[]
  /** The status of every answer, in order. */
  statuses: number[]
  /**
   * Bodies being sent right now. A client that went away is noticed by the server only a moment
   * later, and a last slice may still be counted in `bytesSent` meanwhile: wait for 0 before
   * comparing counts.
   */
  sending: number
}

const FILLER = new Uint8Array(64 * 1024)

/** A file's identity and digests, as another node's firmware server announced it (scale-out). */
export interface SharedFileInfo {
  id: string
  name: string
  size: number
  md5: string
  sha256: string
}

/**
 * One image held in memory. The bytes are served as slices of the caller's buffer, never copied
 * whole. A file another node added (scale-out) starts without its bytes: `load()` fetches them
 * once, on the first request.
 */
export class StoredFirmware {
  readonly faults = new FirmwareFaults()
  readonly stats: FirmwareFileStats = { requests: 0, bytesSent: 0, ranges: [], statuses: [], sending: 0 }
  readonly id: string
  readonly name: string
  readonly size: number
  readonly md5: string
  readonly sha256: string
  #data: Uint8Array | undefined
  #loading: Promise<boolean> | undefined
  readonly #fetch: (() => Promise<Uint8Array | undefined>) | undefined

  constructor(
    id: string,
    name: string,
    data: Uint8Array | { info: SharedFileInfo; fetch: () => Promise<Uint8Array | undefined> },
  ) {
    this.id = id
    this.name = name
    if (data instanceof Uint8Array) {
      this.#data = data
      this.size = data.length
      this.md5 = createHash('md5').update(data).digest('hex')
      this.sha256 = createHash('sha256').update(data).digest('hex')
    } else {
      this.size = data.info.size
      this.md5 = data.info.md5
      this.sha256 = data.info.sha256
      this.#fetch = data.fetch
    }
  }

  /** The image's bytes, once held. */
  get data(): Uint8Array | undefined {
    return this.#data
  }

  /** Resolves true once the bytes are held (fetched at most once), false when they cannot be had. */
  load(): Promise<boolean> {
    if (this.#data !== undefined) return Promise.resolve(true)
    this.#loading ??= (this.#fetch?.() ?? Promise.resolve(undefined)).then(
      (bytes) => {
        // Bytes that do not match what was announced are not served.
        if (bytes === undefined || bytes.length !== this.size) return false
        if (createHash('md5').update(bytes).digest('hex') !== this.md5) return false
        this.#data = bytes
        return true
      },
      () => false,
    )
    return this.#loading.then((ok) => {
      if (!ok) this.#loading = undefined
      return ok
    })
  }

  /** The size served, after an `extraBytes` fault from this file's or the global faults. */
  servedSize(global: FirmwareFaults): number {
    return Math.max(0, this.size + this.faults.extra + global.extra)
  }

  /** Up to `max` served bytes starting at `offset` (< served size), past the image end zero filler. */
  slice(offset: number, max: number): Uint8Array {
    const data = this.#data ?? FILLER
    if (offset < this.size) {
      return data.subarray(offset, Math.min(this.size, offset + max))
    }
    return FILLER.subarray(0, Math.min(FILLER.length, max))
  }
}

/** The files a firmware server knows, by id. */
export class FirmwareStore {
  readonly #files = new Map<string, StoredFirmware>()

  add(data: Uint8Array, name: string): StoredFirmware {
    let id = randomBytes(4).toString('hex')
    while (this.#files.has(id)) id = randomBytes(4).toString('hex')
    const file = new StoredFirmware(id, name, data)
    this.#files.set(id, file)
    return file
  }

  /** Knows a file another node holds; its bytes come from `fetch` when first asked for. */
  adopt(info: SharedFileInfo, fetch: () => Promise<Uint8Array | undefined>): StoredFirmware {
    const held = this.#files.get(info.id)
    if (held !== undefined) return held
    const file = new StoredFirmware(info.id, info.name, { info, fetch })
    this.#files.set(info.id, file)
    return file
  }

  get(id: string): StoredFirmware | undefined {
    return this.#files.get(id)
  }

  delete(id: string): boolean {
    return this.#files.delete(id)
  }
}
