import type { FileHandle } from 'node:fs/promises'
import { LinkkitError } from '@linkkit/core'
import { fsFailure } from '../file-state.js'
import {
  encodeWear,
  type FlashGeometry,
  type LoadedFlash,
  loadFlashFile,
  superblockBytes,
} from './flash-file.js'

const erased = 0xff

/** How worn the flash is: erase count per sector and every byte ever programmed. */
export interface FlashWear {
  /** Erase count of each sector. */
  readonly eraseCounts: readonly number[]
  /** Every byte ever programmed. */
  readonly programmedBytes: number
}

export interface NorFlashOptions extends FlashGeometry {
  /** Start from a blank (all 0xFF) flash even if the file holds one. */
  blank?: boolean
  /** Programmed bytes after which power is lost; undefined for none. */
  powerCutAfterBytes?: number
  /** The operation (0-based erase or program of this instance) that power is lost in; undefined for none. */
  powerCutAtOperation?: PowerCutAtOperation
}

/** A power cut at one erase or program operation, counted from the open of the flash. */
export interface PowerCutAtOperation {
  /** 0 cuts the first erase or program this instance performs, 1 the second, and so on. */
  readonly index: number
  /** A program keeps this many of its first bytes before power is lost (an erase is cut before it starts). @default 0 */
  readonly tornBytes?: number
}

/** What a power cut interrupted, in the `details` of its `ERR_FLASH_POWER_CUT`. */
export interface PowerCutDetails {
  /** Index of the interrupted operation among this instance's erases and programs. */
  readonly operation: number
  /** An erase (cut before it starts) or a program (torn after `persisted` bytes). */
  readonly kind: 'erase' | 'program'
  /** Flash address of the operation. */
  readonly address: number
  /** Bytes the operation would have erased or programmed. */
  readonly length: number
  /** Bytes of it that reached the flash. */
  readonly persisted: number
}

/**
 * A NOR flash kept in a file, so that reopening the file is a reboot. Erase sets a sector to
 * 0xFF; program may only turn erased bytes into data, and programming a byte that is not erased
 * is refused as the bug it would be on real NOR. After a simulated power cut the flash keeps
 * exactly the bytes programmed before it and refuses every further operation.
 *
 * Contents are written through to the file on every erase and program. The wear counters are
 * saved on close and on a simulated power cut (wear is physical: a cut does not undo it); a
 * process killed without either loses the counts since it opened the file, never contents.
 */
export class NorFlash {
  readonly path: string
  readonly sectorSizeBytes: number
  readonly #handle: FileHandle
  readonly #contents: Uint8Array
  readonly #eraseCounts: number[]
  #programmedBytes: number
  #budget: number
  readonly #cutAt: PowerCutAtOperation | undefined
  /** Erases and programs this instance performed (or started). */
  #operations = 0
  #powerLost = false
  #closed = false

  private constructor(
    path: string,
    geometry: FlashGeometry,
    loaded: LoadedFlash,
    powerCutAfterBytes?: number,
    powerCutAtOperation?: PowerCutAtOperation,
  ) {
    this.path = path
    this.sectorSizeBytes = geometry.sectorSizeBytes
    this.#handle = loaded.handle
    this.#contents = loaded.contents
    this.#eraseCounts = loaded.eraseCounts
    this.#programmedBytes = loaded.programmedBytes
    this.#budget = powerCutAfterBytes ?? Number.POSITIVE_INFINITY
    this.#cutAt = powerCutAtOperation
  }

  /** Opens (or creates blank) the flash file `path`; a file of another geometry is refused. */
  static async open(path: string, options: NorFlashOptions): Promise<NorFlash> {
    const geometry = { sectorSizeBytes: options.sectorSizeBytes, sectorCount: options.sectorCount }
    const loaded = await loadFlashFile(path, geometry, options.blank ?? false)
    return new NorFlash(path, geometry, loaded, options.powerCutAfterBytes, options.powerCutAtOperation)
  }

  get sizeBytes(): number {
    return this.#contents.length
  }

  get wear(): FlashWear {
    return { eraseCounts: [...this.#eraseCounts], programmedBytes: this.#programmedBytes }
  }

  /** Whether a simulated power cut happened; the instance is then dead until the file is reopened. */
  get powerLost(): boolean {
    return this.#powerLost
  }

  /** Loses power once `afterBytes` more bytes were programmed (the write crossing it is torn). */
  injectPowerCut(afterBytes: number): void {
    this.#assertPowered()
    this.#budget = Math.max(0, afterBytes)
  }

  /** A read-only view of `length` bytes at `address` (valid until the next erase or program). */
  read(address: number, length: number): Uint8Array {
    this.#assertPowered()
    this.#assertRange(address, length)
    return this.#contents.subarray(address, address + length)
  }

  isErased(address: number, length: number): boolean {
    return this.read(address, length).every((byte) => byte === erased)
  }

  async erase(sector: number): Promise<void> {
    this.#assertPowered()
    this.#assertRange(sector * this.sectorSizeBytes, this.sectorSizeBytes)
    const start = sector * this.sectorSizeBytes
    const operation = this.#operations++
    // A cut that lands on an erase happens before it: the sector keeps its old contents.
    if (this.#budget === 0 || this.#cutAt?.index === operation) {
      await this.#cut({
        operation,
        kind: 'erase',
        address: start,
        length: this.sectorSizeBytes,
        persisted: 0,
      })
    }
    this.#contents.fill(erased, start, start + this.sectorSizeBytes)
    this.#eraseCounts[sector] = (this.#eraseCounts[sector] ?? 0) + 1
    await this.#persist(start, this.sectorSizeBytes)
  }

  async program(address: number, bytes: Uint8Array): Promise<void> {
    this.#assertPowered()
    this.#assertRange(address, bytes.length)
    const dirty = this.#contents
      .subarray(address, address + bytes.length)
      .findIndex((byte) => byte !== erased)
    if (dirty >= 0) {
      throw new LinkkitError(
        'ERR_PERSISTENCE_WRITE',
        `program at 0x${(address + dirty).toString(16)} over bytes that are not erased (NOR can only clear bits)`,
        {
          details: { address: address + dirty, sector: Math.floor((address + dirty) / this.sectorSizeBytes) },
        },
      )
    }
    const operation = this.#operations++
    const cutHere = this.#cutAt?.index === operation
    const allowed = cutHere ? Math.min(this.#budget, Math.max(0, this.#cutAt?.tornBytes ?? 0)) : this.#budget
    const persisted = Math.min(bytes.length, allowed)
    this.#contents.set(bytes.subarray(0, persisted), address)
    this.#budget -= persisted
    this.#programmedBytes += persisted
    await this.#persist(address, persisted)
    if (cutHere || persisted < bytes.length) {
      await this.#cut({ operation, kind: 'program', address, length: bytes.length, persisted })
    }
  }

  /** Closes the file. Idempotent; after a power cut the file is already closed. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    try {
      await this.#persistWear()
    } finally {
      await this.#handle.close()
    }
  }

  async #cut(details: PowerCutDetails): Promise<never> {
    this.#powerLost = true
    await this.close()
    throw new LinkkitError('ERR_FLASH_POWER_CUT', undefined, { details: { ...details } })
  }

  async #persist(address: number, length: number): Promise<void> {
    if (length > 0) await this.#fileWrite(this.#contents, address, length, superblockBytes + address)
  }

  async #persistWear(): Promise<void> {
    const counters = encodeWear(this.#eraseCounts, this.#programmedBytes)
    await this.#fileWrite(counters, 0, counters.length, superblockBytes + this.#contents.length)
  }

  async #fileWrite(bytes: Uint8Array, offset: number, length: number, position: number): Promise<void> {
    try {
      await this.#handle.write(bytes, offset, length, position)
    } catch (error) {
      throw fsFailure('ERR_PERSISTENCE_WRITE', 'writing the flash file', this.path, error)
    }
  }

  #assertPowered(): void {
    if (this.#powerLost)
      throw new LinkkitError('ERR_FLASH_POWER_CUT', 'the flash lost power; reopen it (reboot)')
  }

  #assertRange(address: number, length: number): void {
    if (
      !Number.isSafeInteger(address) ||
      address < 0 ||
      length < 0 ||
      address + length > this.#contents.length
    ) {
      throw new LinkkitError(
        'ERR_INVALID_ARGUMENT',
        `flash range 0x${address.toString(16)}+${length} is out of bounds`,
      )
    }
  }
}
