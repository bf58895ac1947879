import { LinkkitError } from '@linkkit/core'

/** The two firmware slots of the simulated flash. */
export type SlotName = 'A' | 'B'

export const otherSlot = (slot: SlotName): SlotName => (slot === 'A' ? 'B' : 'A')

/**
 * Where things live in a slot's header sector. The staging record is programmed when a download
 * starts, the final record when it is committed, and one progress byte per data sector is
 * cleared to 0x00 once that sector is fully programmed: all three only clear bits, so none needs
 * an erase until the next download (the way MCUboot keeps its trailer).
 */
export const headerArea = { staging: 0, final: 256, progress: 512, recordBytes: 256 } as const

/**
 * The flash map: boot record copies in sectors 0 and 1, then slot A, then slot B. Each slot is a
 * header sector followed by data sectors.
 */
export interface FlashLayout {
  readonly sectorSizeBytes: number
  readonly slotSizeBytes: number
  readonly sectorCount: number
  /** Largest image a slot holds. */
  readonly capacityBytes: number
}

export const bootRecordSectors = [0, 1] as const

export function flashLayout(sectorSizeBytes: number, slotSizeBytes: number): FlashLayout {
  if (!Number.isSafeInteger(sectorSizeBytes) || sectorSizeBytes < 1024) {
    throw new LinkkitError(
      'ERR_INVALID_OPTIONS',
      `sectorSizeBytes must be an integer >= 1024, got ${sectorSizeBytes}`,
    )
  }
  if (
    !Number.isSafeInteger(slotSizeBytes) ||
    slotSizeBytes < 2 * sectorSizeBytes ||
    slotSizeBytes % sectorSizeBytes
  ) {
    throw new LinkkitError(
      'ERR_INVALID_OPTIONS',
      `slotSizeBytes must be a multiple of sectorSizeBytes (${sectorSizeBytes}) of at least two sectors, got ${slotSizeBytes}`,
    )
  }
  const dataSectors = slotSizeBytes / sectorSizeBytes - 1
  if (dataSectors > sectorSizeBytes - headerArea.progress) {
    throw new LinkkitError(
      'ERR_INVALID_OPTIONS',
      `a slot of ${dataSectors} data sectors needs a larger sectorSizeBytes for its progress map`,
    )
  }
  return {
    sectorSizeBytes,
    slotSizeBytes,
    sectorCount: bootRecordSectors.length + 2 * (slotSizeBytes / sectorSizeBytes),
    capacityBytes: slotSizeBytes - sectorSizeBytes,
  }
}

/** Address of the slot's header sector. */
export function slotAddress(layout: FlashLayout, slot: SlotName): number {
  return bootRecordSectors.length * layout.sectorSizeBytes + (slot === 'A' ? 0 : layout.slotSizeBytes)
}

/** Address of the slot's first data byte. */
export function dataAddress(layout: FlashLayout, slot: SlotName): number {
  return slotAddress(layout, slot) + layout.sectorSizeBytes
}
