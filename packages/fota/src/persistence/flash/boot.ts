import { LinkkitError } from '@linkkit/core'
import type { FirmwareImage } from '../../types.js'
import { readBootRecord, writeBootRecord } from './boot-record.js'
import { type FlashLayout, otherSlot, type SlotName } from './layout.js'
import type { NorFlash } from './nor-flash.js'
import { verifiedImage } from './slot.js'

/** What a simulated reboot chose. */
export interface FlashSimBoot {
  /** The slot that boots. */
  readonly slot: SlotName
  /** Version of the image in that slot (from its verified header). */
  readonly version: string
  /** True when the boot went back to the confirmed slot: an unconfirmed trial or a new image that failed verification. */
  readonly rolledBack: boolean
}

/** The slot a download must go to: the one that is not confirmed, unless a trial runs from it. */
export async function downloadSlot(flash: NorFlash): Promise<SlotName> {
  const record = readBootRecord(flash)
  if (record.pending !== undefined && record.trial) {
    throw new LinkkitError(
      'ERR_PERSISTENCE',
      'a trial image is running: confirm() it or reboot to roll back first',
    )
  }
  // A new download supersedes an activation that has not booted yet.
  if (record.pending !== undefined) await writeBootRecord(flash, { ...record, pending: undefined })
  return otherSlot(record.active)
}

/** Marks the committed image in the spare slot to boot next, on trial. */
export async function activate(flash: NorFlash, layout: FlashLayout): Promise<FirmwareImage> {
  const record = readBootRecord(flash)
  if (record.pending !== undefined && record.trial) {
    throw new LinkkitError(
      'ERR_PERSISTENCE',
      'a trial image is running: confirm() it or reboot to roll back first',
    )
  }
  const slot = otherSlot(record.active)
  const image = verifiedImage(flash, layout, slot)
  if (image === undefined) {
    throw new LinkkitError('ERR_PERSISTENCE', `slot ${slot} holds no committed, verified image to activate`)
  }
  await writeBootRecord(flash, { active: record.active, pending: slot, trial: false })
  return image
}

/**
 * A reboot, as a bootloader would do it: a pending image boots once on trial; if that trial was
 * never confirmed, or the image does not verify, the confirmed slot boots instead. Every image
 * is verified against its digest before it is chosen, so a torn one never boots.
 */
export async function boot(flash: NorFlash, layout: FlashLayout): Promise<FlashSimBoot> {
  const record = readBootRecord(flash)
  if (record.pending !== undefined) {
    const image = record.trial ? undefined : verifiedImage(flash, layout, record.pending)
    if (image !== undefined) {
      await writeBootRecord(flash, { ...record, trial: true })
      return { slot: record.pending, version: image.version, rolledBack: false }
    }
    await writeBootRecord(flash, { active: record.active, pending: undefined, trial: false })
    return { ...(await bootConfirmed(flash, layout, record.active)), rolledBack: true }
  }
  return bootConfirmed(flash, layout, record.active)
}

async function bootConfirmed(flash: NorFlash, layout: FlashLayout, active: SlotName): Promise<FlashSimBoot> {
  const image = verifiedImage(flash, layout, active)
  if (image !== undefined) return { slot: active, version: image.version, rolledBack: false }
  const spare = otherSlot(active)
  const fallback = verifiedImage(flash, layout, spare)
  if (fallback === undefined) throw new LinkkitError('ERR_FLASH_NO_VALID_IMAGE')
  await writeBootRecord(flash, { active: spare, pending: undefined, trial: false })
  return { slot: spare, version: fallback.version, rolledBack: true }
}

/** Makes the running trial image the confirmed one. Does nothing when no trial runs. */
export async function confirm(flash: NorFlash): Promise<void> {
  const record = readBootRecord(flash)
  if (record.pending === undefined) return
  if (!record.trial) {
    throw new LinkkitError(
      'ERR_PERSISTENCE',
      'the activated image has not booted yet: boot() before confirm()',
    )
  }
  await writeBootRecord(flash, { active: record.pending, pending: undefined, trial: false })
}
