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
}

const FILLER = new Uint8Array(64 * 1024)

/** One image held in memory. The bytes are served as slices of the caller's buffer, never copied whole. */
export class StoredFirmware {
  readonly faults = new FirmwareFaults()
  readonly stats: FirmwareFileStats = { requests: 0, bytesSent: 0, ranges: [], statuses: [] }
  readonly md5: string
  readonly sha256: string

  constructor(
    readonly id: string,
    readonly name: string,
    readonly data: Uint8Array,
  ) {
    this.md5 = createHash('md5').update(data).digest('hex')
    this.sha256 = createHash('sha256').update(data).digest('hex')
  }

  /** The size served, after an `extraBytes` fault from this file's or the global faults. */
  servedSize(global: FirmwareFaults): number {
    return Math.max(0, this.data.length + this.faults.extra + global.extra)
  }

  /** Up to `max` served bytes starting at `offset` (< served size), past the image end zero filler. */
  slice(offset: number, max: number): Uint8Array {
    if (offset < this.data.length) {
      return this.data.subarray(offset, Math.min(this.data.length, offset + max))
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

  get(id: string): StoredFirmware | undefined {
    return this.#files.get(id)
  }

  delete(id: string): boolean {
    return this.#files.delete(id)
  }
}
