import type { FirmwareImage } from '../../types.js'
import type { BootState, TrialState } from '../boot-types.js'
import { confirmBy } from './boot.js'
import { readBootRecord } from './boot-record.js'
import type { FlashLayout, SlotName } from './layout.js'
import type { NorFlash } from './nor-flash.js'
import { inspectSlot, readSlotBytes } from './slot.js'

/**
 * What runs (`booted`, the slot the last boot chose, else the trial or confirmed slot), whether it
 * is on trial, an unreported rollback and the security counter, from the boot record.
 */
export function bootStateOf(flash: NorFlash, layout: FlashLayout, booted: SlotName | undefined): BootState {
  const record = readBootRecord(flash)
  const imageOf = (slot: SlotName) => inspectSlot(flash, layout, slot).image
  const onTrial = record.trial && record.pending !== undefined
  const running = booted ?? (onTrial ? record.pending : record.active)
  let trial: TrialState | undefined
  if (onTrial && record.pending !== undefined) {
    const image = imageOf(record.pending)
    trial = {
      version: image?.version ?? '',
      securityVersion: image?.securityVersion ?? 0,
      bootsLeft: record.extraBoots,
      fallbackVersion: imageOf(record.active)?.version,
      confirmBy: confirmBy(record),
    }
  }
  return {
    version: running === undefined ? undefined : imageOf(running)?.version,
    trial,
    rolledBack:
      record.rolledBack === undefined ? undefined : { version: imageOf(record.rolledBack)?.version },
    securityVersion: record.securityVersion,
  }
}

/** The image of `slot` and a copy of its bytes, when the slot holds a committed, verified image. */
export function committedImage(
  flash: NorFlash,
  layout: FlashLayout,
  slot: SlotName,
): { image: FirmwareImage; bytes: Uint8Array } | undefined {
  const info = inspectSlot(flash, layout, slot)
  if (info.status !== 'ready' || info.image === undefined) return undefined
  return { image: info.image, bytes: readSlotBytes(flash, layout, slot, info.image.size) }
}
