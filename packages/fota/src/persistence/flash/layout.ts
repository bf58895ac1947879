import { integerOption, invalidOption } from '@linkkit/core'

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

/** The geometry of `sectorSizeBytes` and `slotSizeBytes`; throws `ERR_INVALID_OPTIONS` for a bad one. */
export function flashLayout(sectorSizeBytes: number, slotSizeBytes: number): FlashLayout {
  integerOption(sectorSizeBytes, 'sectorSizeBytes', 0, { min: 1024 })
  if (
    !Number.isSafeInteger(slotSizeBytes) ||
    slotSizeBytes < 2 * sectorSizeBytes ||
    slotSizeBytes % sectorSizeBytes
  ) {
    throw invalidOption(
      'slotSizeBytes',
      `a multiple of sectorSizeBytes (${sectorSizeBytes}) of at least two sectors, got ${slotSizeBytes}`,
    )
  }
  const dataSectors = slotSizeBytes / sectorSizeBytes - 1
  if (dataSectors > sectorSizeBytes - headerArea.progress) {
    throw invalidOption(
      'sectorSizeBytes',
      `larger for the progress map of a slot of ${dataSectors} data sectors, got ${sectorSizeBytes}`,
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
