import { LinkkitError } from '@linkkit/core'
import type { FirmwareImage } from '../../types.js'
import { matchesDigest } from '../digest.js'
import { assertComplete, assertContiguous } from '../image.js'
import { encodeImageRecord, finalMagic, stagingMagic } from './image-record.js'
import { dataAddress, type FlashLayout, headerArea, type SlotName, slotAddress } from './layout.js'
import type { NorFlash } from './nor-flash.js'

const complete = new Uint8Array([0])

/**
 * One download into one slot. Data sectors are erased lazily, right before the first byte goes
 * into each; a sector's progress byte is cleared once the sector is full, which is what lets a
 * download resume after a reboot without trusting a half-programmed sector.
 */
export class SlotWriter {
  readonly slot: SlotName
  readonly image: FirmwareImage
  readonly #flash: NorFlash
  readonly #layout: FlashLayout
  #held: number
  /** Index of the first data sector not yet erased by this download. */
  #nextErase: number

  private constructor(
    flash: NorFlash,
    layout: FlashLayout,
    slot: SlotName,
    image: FirmwareImage,
    held: number,
  ) {
    this.#flash = flash
    this.#layout = layout
    this.slot = slot
    this.image = image
    this.#held = held
    this.#nextErase = held / layout.sectorSizeBytes
  }

  /** Invalidates whatever the slot held (header sector erase) and records which image comes. */
  static async begin(
    flash: NorFlash,
    layout: FlashLayout,
    slot: SlotName,
    image: FirmwareImage,
  ): Promise<SlotWriter> {
    if (image.size > layout.capacityBytes) {
      throw new LinkkitError(
        'ERR_PERSISTENCE',
        `image of ${image.size} bytes exceeds the slot capacity ${layout.capacityBytes}`,
        { details: { reason: 'too-large', size: image.size, limit: layout.capacityBytes } },
      )
    }
    const record = encodeImageRecord(stagingMagic, image)
    await flash.erase(slotAddress(layout, slot) / layout.sectorSizeBytes)
    await flash.program(slotAddress(layout, slot) + headerArea.staging, record)
    return new SlotWriter(flash, layout, slot, image, 0)
  }

  /** Continues a download whose first `held` bytes (whole sectors, see `resumableBytes`) are kept. */
  static resume(
    flash: NorFlash,
    layout: FlashLayout,
    slot: SlotName,
    image: FirmwareImage,
    held: number,
  ): SlotWriter {
    return new SlotWriter(flash, layout, slot, image, held)
  }

  async write(chunk: Uint8Array, offset: number): Promise<void> {
    assertContiguous(offset, this.#held)
    if (chunk.length === 0) return
    const end = this.#held + chunk.length
    if (end > this.#layout.capacityBytes) {
      throw new LinkkitError(
        'ERR_PERSISTENCE_WRITE',
        `write past the slot capacity of ${this.#layout.capacityBytes}`,
      )
    }
    const sectorSize = this.#layout.sectorSizeBytes
    const firstDataSector = dataAddress(this.#layout, this.slot) / sectorSize
    while (this.#nextErase <= Math.floor((end - 1) / sectorSize)) {
      await this.#flash.erase(firstDataSector + this.#nextErase)
      this.#nextErase += 1
    }
    await this.#flash.program(dataAddress(this.#layout, this.slot) + this.#held, chunk)
    const progress = slotAddress(this.#layout, this.slot) + headerArea.progress
    for (let sector = Math.floor(this.#held / sectorSize); sector < Math.floor(end / sectorSize); sector++) {
      await this.#flash.program(progress + sector, complete)
    }
    this.#held = end
  }

  /**
   * Writes the final header once the bytes in flash hash to the digest. The slot is then
   * complete but does not boot until activated.
   */
  async commit(): Promise<void> {
    assertComplete(this.image, this.#held)
    const record = encodeImageRecord(finalMagic, this.image)
    if (
      !matchesDigest(this.image, [this.#flash.read(dataAddress(this.#layout, this.slot), this.image.size)])
    ) {
      await this.discard()
      throw new LinkkitError(
        'ERR_PERSISTENCE',
        'the bytes in flash do not match the image digest; not committed',
      )
    }
    await this.#flash.program(slotAddress(this.#layout, this.slot) + headerArea.final, record)
  }

  /** Erases the header sector: the slot reads as empty and nothing can resume from it. */
  async discard(): Promise<void> {
    await this.#flash.erase(slotAddress(this.#layout, this.slot) / this.#layout.sectorSizeBytes)
  }
}
