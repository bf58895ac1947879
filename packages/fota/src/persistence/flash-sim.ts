import { LinkkitError } from '@linkkit/core'
import type { FirmwareImage, FirmwarePersistence, PersistenceOutcome } from '../types.js'
import type { ActivateOptions, BootClock, BootState, StorageCapacity } from './boot-types.js'
import { trialBudget } from './confirm-budget.js'
import * as bootloader from './flash/boot.js'
import { type BootRecord, readBootRecord } from './flash/boot-record.js'
import { bootStateOf, committedImage } from './flash/inspect.js'
import { type FlashLayout, otherSlot, type SlotName } from './flash/layout.js'
import { NorFlash, type PowerCutAtOperation } from './flash/nor-flash.js'
import { provisionFlash } from './flash/provision.js'
import { inspectSlot, readSlotBytes, resumableBytes } from './flash/slot.js'
import { SlotWriter } from './flash/slot-writer.js'
import {
  type FlashSimOptions,
  type FlashSimProvisionOptions,
  type FlashSimState,
  resolveFlashSimOptions,
} from './flash-sim-options.js'
import { assertImage } from './image.js'
import { refuseMultiFile, tooLarge } from './offer-set.js'

export type { FlashSimBoot } from './flash/boot.js'
export type { SlotName } from './flash/layout.js'
export type { FlashWear, PowerCutAtOperation, PowerCutDetails } from './flash/nor-flash.js'
export type { SlotInfo, SlotStatus } from './flash/slot.js'
export type { FlashSimOptions, FlashSimProvisionOptions, FlashSimState } from './flash-sim-options.js'

/**
 * A simulated NOR flash with A/B slots and a redundant boot record, kept in a file. Downloads go
 * to the spare slot (erasing each sector right before its first byte); `stop({ ok: true })`
 * writes the slot's image header but does not make it boot; `activate()` makes the next
 * `boot()` try it on trial (once, or `confirmWithinBoots` times, and until `confirmWithinMs`
 * after its first boot by `clock`); `confirm()` keeps it and raises the security counter to its
 * security version, and a boot past the trial without `confirm()` (or `rollBack()`) rolls back,
 * noting it for `bootState()` until `rollbackReported()`.
 * Every boot verifies the image digest, so after a power cut injected anywhere (data, header or
 * boot record) the next boot finds the old or the new image, never a torn one.
 *
 * A slot holds one bootable application image: a multi-file offer is refused at its first `start`
 * (`ERR_PERSISTENCE`, `details.reason: 'multi-file'`, step -4) before the flash is touched, so no
 * resource file can ever be activated and booted. An interrupted download
 * (`stop({ ok: false, resumable: true })`) keeps its completed sectors for a resume; a refused one
 * erases the slot header.
 */
export class FlashSimPersistence implements FirmwarePersistence, AsyncDisposable {
  /** The flash file. */
  readonly path: string
  /** Sector and slot geometry. */
  readonly layout: FlashLayout
  readonly #powerCutAt: number | undefined
  readonly #powerCutAtOperation: PowerCutAtOperation | undefined
  readonly #clock: BootClock
  #flash: Promise<NorFlash> | undefined
  #writer: SlotWriter | undefined
  #booted: SlotName | undefined
  #closed = false

  constructor(options: FlashSimOptions) {
    const resolved = resolveFlashSimOptions(options)
    this.path = resolved.path
    this.layout = resolved.layout
    this.#powerCutAt = resolved.powerCutAt
    this.#powerCutAtOperation = resolved.powerCutAtOperation
    this.#clock = resolved.clock
  }

  /** Erases the whole flash file, writes `image` into slot A as the confirmed image, and opens it. */
  static async provision(options: FlashSimProvisionOptions): Promise<FlashSimPersistence> {
    const { image, ...rest } = options
    const adapter = new FlashSimPersistence({
      ...rest,
      powerCutAt: undefined,
      powerCutAtOperation: undefined,
    })
    await provisionFlash(
      await NorFlash.open(adapter.path, { ...adapter.#geometry(), blank: true }),
      adapter.layout,
      image,
    )
    return new FlashSimPersistence(rest)
  }

  async resumeOffset(image: FirmwareImage): Promise<number> {
    if ((image.files?.length ?? 0) > 1) return 0
    const flash = await this.#open()
    const record = readBootRecord(flash)
    if (record.pending !== undefined && record.trial) return 0
    return resumableBytes(flash, this.layout, otherSlot(record.active), image)
  }

  async *readBack(image: FirmwareImage, length: number): AsyncIterable<Uint8Array> {
    const held = await this.resumeOffset(image)
    if (!(length <= held)) {
      throw new LinkkitError('ERR_PERSISTENCE', `cannot read back ${length} bytes, ${held} are held`)
    }
    const flash = await this.#open()
    const slot = otherSlot(readBootRecord(flash).active)
    const bytes = readSlotBytes(flash, this.layout, slot, length)
    for (let at = 0; at < length; at += this.layout.sectorSizeBytes) {
      yield bytes.subarray(at, Math.min(length, at + this.layout.sectorSizeBytes))
    }
  }

  async start(image: FirmwareImage, offset: number): Promise<void> {
    assertImage(image)
    // Refused before the flash is touched: a slot holds one bootable image, and it must fit.
    refuseMultiFile(
      image,
      'FlashSimPersistence',
      'A slot boots one application image: store the offer with FilePersistence({ dir }) or your own adapter.',
    )
    if (image.size > this.layout.capacityBytes) {
      throw tooLarge(image.size, this.layout.capacityBytes, 'the slot capacity')
    }
    this.#writer = undefined
    const flash = await this.#open()
    const slot = await bootloader.downloadSlot(flash)
    if (offset === 0) {
      this.#writer = await SlotWriter.begin(flash, this.layout, slot, image)
      return
    }
    const held = resumableBytes(flash, this.layout, slot, image)
    if (offset !== held) {
      throw new LinkkitError('ERR_PERSISTENCE', `cannot resume at ${offset}: ${held} bytes are held`)
    }
    this.#writer = SlotWriter.resume(flash, this.layout, slot, image, held)
  }

  async write(chunk: Uint8Array, offset: number): Promise<void> {
    if (this.#writer === undefined) throw new LinkkitError('ERR_PERSISTENCE_WRITE', 'write before start')
    await this.#writer.write(chunk, offset)
  }

  async stop(outcome: PersistenceOutcome): Promise<void> {
    const writer = this.#writer
    this.#writer = undefined
    if (writer === undefined) {
      if (outcome.ok) throw new LinkkitError('ERR_PERSISTENCE', 'stop({ ok: true }) without start')
      return
    }
    if (outcome.ok) await writer.commit()
    // Interrupted: the completed sectors stay, and the next download of the same image resumes after them.
    else if (!outcome.resumable) await writer.discard()
  }

  /**
   * Makes the committed image in the spare slot boot next, on trial for `confirmWithinBoots`
   * boots (default 1). Returns that image.
   */
  async activate(options: ActivateOptions = {}): Promise<FirmwareImage> {
    if (this.#writer !== undefined) throw new LinkkitError('ERR_PERSISTENCE', 'a download is in progress')
    return bootloader.activate(await this.#open(), this.layout, trialBudget(options))
  }

  /** A simulated reboot: chooses and verifies the image to run (the rules are in the class comment). */
  async boot(): Promise<bootloader.FlashSimBoot> {
    this.#writer = undefined
    const result = await bootloader.boot(await this.#open(), this.layout, this.#clock.now())
    this.#booted = result.slot
    return result
  }

  /** Keeps the running trial image for good and raises the security counter; without it a later boot rolls back. */
  async confirm(): Promise<void> {
    await bootloader.confirm(await this.#open(), this.layout)
  }

  /**
   * Gives the running trial image up now, as a boot past its deadline would (a device calls it
   * when `confirmWithinMs` runs out while the image runs): the next boot runs the confirmed slot
   * and `bootState()` reports the rollback. Restart afterwards. Does nothing when no trial runs.
   */
  async rollBack(): Promise<void> {
    if (await bootloader.rollBack(await this.#open())) this.#booted = undefined
  }

  /** What runs, whether it is on trial, an unreported rollback and the security counter, from the boot record. */
  async bootState(): Promise<BootState> {
    return bootStateOf(await this.#open(), this.layout, this.#booted)
  }

  /** Forgets the rollback `bootState()` reported. */
  async rollbackReported(): Promise<void> {
    await bootloader.rollbackReported(await this.#open())
  }

  /** A slot's capacity; nothing is free while a trial image runs from the spare slot. */
  async capacity(): Promise<StorageCapacity> {
    const record = readBootRecord(await this.#open())
    const trial = record.trial && record.pending !== undefined
    return { totalBytes: this.layout.capacityBytes, freeBytes: trial ? 0 : this.layout.capacityBytes }
  }

  /** The running version: that of the slot the last `boot()` chose, else of the confirmed slot. */
  async activeVersion(): Promise<string | undefined> {
    const flash = await this.#open()
    const slot = this.#booted ?? readBootRecord(flash).active
    const info = inspectSlot(flash, this.layout, slot)
    return info.status === 'ready' ? info.image?.version : undefined
  }

  /** A snapshot of the boot record, both slots and the wear counters. */
  async state(): Promise<FlashSimState> {
    const flash = await this.#open()
    const record: BootRecord = readBootRecord(flash)
    return {
      active: record.active,
      pending: record.pending,
      trial: record.trial,
      booted: this.#booted,
      slots: { A: inspectSlot(flash, this.layout, 'A'), B: inspectSlot(flash, this.layout, 'B') },
      wear: flash.wear,
    }
  }

  /** The image of `slot` and a copy of its bytes, when the slot holds a committed, verified image. */
  async readSlot(slot: SlotName): Promise<
    | {
        /** The image the slot holds. */
        image: FirmwareImage
        /** A copy of its bytes. */
        bytes: Uint8Array
      }
    | undefined
  > {
    return committedImage(await this.#open(), this.layout, slot)
  }

  /** The committed image waiting in the spare slot (what `activate()` would switch to), if any. */
  async readStaged(): Promise<
    | {
        /** The image the slot holds. */
        image: FirmwareImage
        /** A copy of its bytes. */
        bytes: Uint8Array
      }
    | undefined
  > {
    return this.readSlot(otherSlot(readBootRecord(await this.#open()).active))
  }

  /** Loses power once `afterBytes` more bytes were programmed (see {@link FlashSimOptions.powerCutAt}). */
  async injectPowerCut(afterBytes: number): Promise<void> {
    ;(await this.#open()).injectPowerCut(afterBytes)
  }

  /**
   * Closes the flash file, as a power-off would: a download in progress stays resumable by a new
   * instance. Later calls on this one fail with `ERR_CLOSED`. Idempotent.
   */
  async close(): Promise<void> {
    this.#closed = true
    const flash = this.#flash
    this.#flash = undefined
    this.#writer = undefined
    const device = await flash?.catch(() => undefined)
    await device?.close()
  }

  /** Same as `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #geometry() {
    return { sectorSizeBytes: this.layout.sectorSizeBytes, sectorCount: this.layout.sectorCount }
  }

  #open(): Promise<NorFlash> {
    if (this.#closed) return Promise.reject(new LinkkitError('ERR_CLOSED', 'FlashSimPersistence was closed'))
    this.#flash ??= NorFlash.open(this.path, {
      ...this.#geometry(),
      ...(this.#powerCutAt === undefined ? {} : { powerCutAfterBytes: this.#powerCutAt }),
      ...(this.#powerCutAtOperation === undefined ? {} : { powerCutAtOperation: this.#powerCutAtOperation }),
    }).catch((error: unknown) => {
      this.#flash = undefined
      throw error
    })
    return this.#flash
  }
}
