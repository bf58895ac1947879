import { LinkkitError } from '@linkkit/core'
import type { FirmwareImage } from '../../types.js'
import type { TrialBudget } from '../confirm-budget.js'
import { type BootChoice, type BootRecord, readBootRecord, writeBootRecord } from './boot-record.js'
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

/**
 * Marks the committed image in the spare slot to boot next, on trial for `confirmWithinBoots`
 * boots and, with `confirmWithinMs`, until that long after its first boot.
 */
export async function activate(
  flash: NorFlash,
  layout: FlashLayout,
  budget: TrialBudget = { boots: 1, ms: undefined },
): Promise<FirmwareImage> {
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
  await writeBootRecord(flash, {
    ...record,
    pending: slot,
    trial: false,
    extraBoots: budget.boots - 1,
    confirmWithinMs: budget.ms ?? 0,
    trialStartedAt: 0,
  })
  return image
}

/**
 * A reboot, as a bootloader would do it: a pending image boots on trial, up to its
 * `confirmWithinBoots` boots and its deadline (`confirmWithinMs` from its first boot, stamped
 * then with `now`); once either is spent unconfirmed, or when the image does not verify, the
 * confirmed slot boots instead and the rollback is noted for the device to report. Every image is
 * verified against its digest before it is chosen, so a torn one never boots.
 */
export async function boot(flash: NorFlash, layout: FlashLayout, now: number): Promise<FlashSimBoot> {
  const record = readBootRecord(flash)
  if (record.pending !== undefined) {
    const spent = record.trial && (record.extraBoots === 0 || pastDeadline(record, now))
    const image = spent ? undefined : verifiedImage(flash, layout, record.pending)
    if (image !== undefined) {
      const extraBoots = record.trial ? record.extraBoots - 1 : record.extraBoots
      const trialStartedAt = record.trial || record.confirmWithinMs === 0 ? record.trialStartedAt : now
      await writeBootRecord(flash, { ...record, trial: true, extraBoots, trialStartedAt })
      return { slot: record.pending, version: image.version, rolledBack: false }
    }
    await writeBootRecord(flash, rolledBackFrom(record))
    return { ...(await bootConfirmed(flash, layout, record.active)), rolledBack: true }
  }
  return bootConfirmed(flash, layout, record.active)
}

/** The deadline of a trial that booted with one, or undefined. */
export function confirmBy(record: BootRecord): number | undefined {
  return record.trial && record.confirmWithinMs > 0
    ? record.trialStartedAt + record.confirmWithinMs
    : undefined
}

function pastDeadline(record: BootRecord, now: number): boolean {
  const by = confirmBy(record)
  return by !== undefined && now >= by
}

/** The record after the pending image was given up: the confirmed slot boots, the rollback noted. */
function rolledBackFrom(record: BootRecord): BootChoice {
  return {
    ...record,
    pending: undefined,
    trial: false,
    extraBoots: 0,
    rolledBack: record.pending,
    confirmWithinMs: 0,
    trialStartedAt: 0,
  }
}

/**
 * Gives the running trial image up now, as a boot past its deadline would: the next boot runs
 * the confirmed slot, and the rollback is noted for the device to report. Does nothing when no
 * trial runs. Returns whether it rolled back.
 */
export async function rollBack(flash: NorFlash): Promise<boolean> {
  const record = readBootRecord(flash)
  if (record.pending === undefined || !record.trial) return false
  await writeBootRecord(flash, rolledBackFrom(record))
  return true
}

async function bootConfirmed(flash: NorFlash, layout: FlashLayout, active: SlotName): Promise<FlashSimBoot> {
  const image = verifiedImage(flash, layout, active)
  if (image !== undefined) return { slot: active, version: image.version, rolledBack: false }
  const spare = otherSlot(active)
  const fallback = verifiedImage(flash, layout, spare)
  if (fallback === undefined) throw new LinkkitError('ERR_FLASH_NO_VALID_IMAGE')
  await writeBootRecord(flash, { ...readBootRecord(flash), active: spare, pending: undefined, trial: false })
  return { slot: spare, version: fallback.version, rolledBack: true }
}

/**
 * Makes the running trial image the confirmed one and raises the security counter to its
 * security version (never lowers it). Does nothing when no trial runs.
 */
export async function confirm(flash: NorFlash, layout: FlashLayout): Promise<void> {
  const record = readBootRecord(flash)
  if (record.pending === undefined) return
  if (!record.trial) {
    throw new LinkkitError(
      'ERR_PERSISTENCE',
      'the activated image has not booted yet: boot() before confirm()',
    )
  }
  const image = verifiedImage(flash, layout, record.pending)
  const securityVersion = Math.max(record.securityVersion, image?.securityVersion ?? 0)
  await writeBootRecord(flash, {
    ...record,
    active: record.pending,
    pending: undefined,
    trial: false,
    extraBoots: 0,
    securityVersion,
    confirmWithinMs: 0,
    trialStartedAt: 0,
  })
}

/** Forgets the rollback the device reported. */
export async function rollbackReported(flash: NorFlash): Promise<void> {
  const record = readBootRecord(flash)
  if (record.rolledBack !== undefined) await writeBootRecord(flash, { ...record, rolledBack: undefined })
}
