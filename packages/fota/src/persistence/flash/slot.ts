import type { FirmwareImage } from '../../types.js'
import { matchesDigest } from '../digest.js'
import { sameImage } from '../image.js'
import { decodeImageRecord, finalMagic, stagingMagic } from './image-record.js'
import { dataAddress, type FlashLayout, headerArea, type SlotName, slotAddress } from './layout.js'
import type { NorFlash } from './nor-flash.js'

/**
 * What a slot holds: `empty` (nothing readable), `staging` (a download started and did not
 * commit), `ready` (a committed image whose digest verifies) or `corrupt` (committed, but its
 * bytes no longer match the digest).
 */
export type SlotStatus = 'empty' | 'staging' | 'ready' | 'corrupt'

/** What one slot of the simulated flash holds. */
export interface SlotInfo {
  /** What the slot holds. */
  readonly status: SlotStatus
  /** The image named by the slot's header (final or staging record). */
  readonly image: FirmwareImage | undefined
  /** Bytes known to be fully programmed: the image size when committed, else whole completed sectors. */
  readonly heldBytes: number
}

/** Whole data sectors whose progress byte was cleared, in order. */
function completedSectors(flash: NorFlash, layout: FlashLayout, slot: SlotName): number {
  const map = flash.read(
    slotAddress(layout, slot) + headerArea.progress,
    layout.slotSizeBytes / layout.sectorSizeBytes - 1,
  )
  const firstOpen = map.findIndex((byte) => byte !== 0)
  return firstOpen < 0 ? map.length : firstOpen
}

function record(flash: NorFlash, layout: FlashLayout, slot: SlotName, at: number, magic: string) {
  return decodeImageRecord(magic, flash.read(slotAddress(layout, slot) + at, headerArea.recordBytes))
}

/** The committed image of `slot` if its header is intact and its bytes hash to its digest. */
export function verifiedImage(
  flash: NorFlash,
  layout: FlashLayout,
  slot: SlotName,
): FirmwareImage | undefined {
  const image = record(flash, layout, slot, headerArea.final, finalMagic)
  if (image === undefined || image.size > layout.capacityBytes) return undefined
  return matchesDigest(image, [flash.read(dataAddress(layout, slot), image.size)]) ? image : undefined
}

export function inspectSlot(flash: NorFlash, layout: FlashLayout, slot: SlotName): SlotInfo {
  const committed = record(flash, layout, slot, headerArea.final, finalMagic)
  if (committed !== undefined) {
    const ok = verifiedImage(flash, layout, slot) !== undefined
    return { status: ok ? 'ready' : 'corrupt', image: committed, heldBytes: ok ? committed.size : 0 }
  }
  const staging = record(flash, layout, slot, headerArea.staging, stagingMagic)
  if (staging === undefined) return { status: 'empty', image: undefined, heldBytes: 0 }
  const held = Math.min(completedSectors(flash, layout, slot) * layout.sectorSizeBytes, staging.size)
  return { status: 'staging', image: staging, heldBytes: held }
}

/**
 * Bytes of `image` that a download into `slot` can keep: the completed sectors of a staging
 * slot receiving this very image. Zero when the final header area was touched (a torn commit),
 * because it cannot be programmed again without erasing the whole header sector.
 */
export function resumableBytes(
  flash: NorFlash,
  layout: FlashLayout,
  slot: SlotName,
  image: FirmwareImage,
): number {
  const info = inspectSlot(flash, layout, slot)
  if (info.status !== 'staging' || info.image === undefined || !sameImage(info.image, image)) return 0
  const finalArea = slotAddress(layout, slot) + headerArea.final
  return flash.isErased(finalArea, headerArea.recordBytes) ? info.heldBytes : 0
}

/** A copy of the first `length` data bytes of `slot`. */
export function readSlotBytes(
  flash: NorFlash,
  layout: FlashLayout,
  slot: SlotName,
  length: number,
): Uint8Array {
  return flash.read(dataAddress(layout, slot), length).slice()
}
