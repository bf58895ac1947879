import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import {
  FilePersistence,
  type FirmwarePersistence,
  FlashSimPersistence,
  LinkkitError,
  MemoryPersistence,
} from '@linkkit/sdk'
import { UsageError } from '../errors.js'
import { DEFAULT_FLASH_SLOT_BYTES, FLASH_SECTOR_BYTES, flashImageCapacity, formatSize } from './size.js'

const FACTORY_IMAGE_BYTES = 64 * 1024

/** What a (simulated) boot found: where the next download goes and the version that runs. */
export interface Booted {
  persistence: FirmwarePersistence
  version: string
  /** What the boot did worth telling, e.g. `booted slot B (1.1.0), confirmed`. */
  note: string | undefined
}

/**
 * The firmware storage of the simulated device, chosen with `--persistence`. `boot()` runs at
 * start and after every upgrade (a simulated reboot); `install()` makes a verified download the
 * image of the next boot.
 */
export interface FirmwareSlot {
  /** `memory`, `file:<path>` or `flash:<path>`, paths absolute. */
  readonly label: string
  /**
   * What the `starting` event says about the firmware before the boot: the version that runs, or
   * (a flash that exists) no version, since the flash, not `--version`, decides; the `booted` event
   * then names it. A flash also shows its slot size.
   */
  startEcho(version: string): Record<string, unknown>
  boot(version: string): Promise<Booted>
  /** Returns the version the next boot runs. */
  install(version: string): Promise<string>
  close(): Promise<void>
}

/** Parses `--persistence`; a flash gets slots of `flashSlotBytes` (`--flash-slot-size`). */
export function firmwareSlot(
  text: string,
  cwd: string,
  flashSlotBytes: number = DEFAULT_FLASH_SLOT_BYTES,
): FirmwareSlot {
  if (text === 'memory') return memorySlot()
  const match = /^(file|flash):(.+)$/.exec(text)
  if (match === null)
    throw new UsageError(`--persistence takes memory, file:<path> or flash:<path>, got '${text}'`)
  const path = resolve(cwd, match[2] ?? '')
  if (match[1] === 'file') return fileSlot(path)
  if (flashSlotBytes % FLASH_SECTOR_BYTES !== 0 || flashSlotBytes < 2 * FLASH_SECTOR_BYTES) {
    throw new UsageError(
      `--flash-slot-size must be a multiple of the ${formatSize(FLASH_SECTOR_BYTES)} sector of at least two sectors, got ${flashSlotBytes} bytes`,
    )
  }
  return flashSlot(path, flashSlotBytes)
}

function memorySlot(): FirmwareSlot {
  const persistence = new MemoryPersistence({ maxSizeBytes: 256 * 1024 * 1024 })
  return {
    label: 'memory',
    startEcho: (version) => ({ version }),
    boot: async (version) => ({ persistence, version, note: undefined }),
    install: async (version) => version,
    close: async () => {},
  }
}

function fileSlot(path: string): FirmwareSlot {
  let current: FilePersistence | undefined
  return {
    label: `file:${path}`,
    startEcho: (version) => ({ version }),
    async boot(version) {
      current = new FilePersistence({ path })
      return { persistence: current, version, note: undefined }
    },
    install: async (version) => version,
    async close() {
      await current?.close()
    },
  }
}

function flashSlot(path: string, slotSizeBytes: number): FirmwareSlot {
  let flash: FlashSimPersistence | undefined
  const slots = `slots of ${formatSize(slotSizeBytes)}, images up to ${formatSize(flashImageCapacity(slotSizeBytes))}`
  return {
    label: `flash:${path}`,
    startEcho: (version) => ({
      version: existsSync(path) ? undefined : version,
      flashSlotSize: formatSize(slotSizeBytes),
      flashImageCapacityBytes: flashImageCapacity(slotSizeBytes),
    }),
    async boot(version) {
      await flash?.close()
      const fresh = !existsSync(path)
      try {
        flash = fresh
          ? await FlashSimPersistence.provision({
              path,
              slotSizeBytes,
              sectorSizeBytes: FLASH_SECTOR_BYTES,
              image: {
                version,
                data: randomBytes(Math.min(FACTORY_IMAGE_BYTES, flashImageCapacity(slotSizeBytes))),
              },
            })
          : new FlashSimPersistence({ path, slotSizeBytes, sectorSizeBytes: FLASH_SECTOR_BYTES })
      } catch (error) {
        if (error instanceof LinkkitError && error.code === 'ERR_INVALID_OPTIONS')
          throw new UsageError(`--flash-slot-size ${formatSize(slotSizeBytes)}: ${error.message}`)
        throw error
      }
      const boot = await flash.boot()
      const trial = (await flash.state()).trial
      // The simulated firmware runs fine, so a trial boot of a new image is confirmed at once.
      if (trial) await flash.confirm()
      const notes = [
        fresh ? `new flash with factory firmware ${version}` : undefined,
        slots,
        `booted slot ${boot.slot} (${boot.version})`,
        boot.rolledBack ? 'rolled back' : undefined,
        trial ? 'confirmed' : undefined,
      ]
      return { persistence: flash, version: boot.version, note: notes.filter(Boolean).join(', ') }
    },
    async install(version) {
      if (flash === undefined) return version
      // Only the image this download verified may boot: never a stale or foreign one from the spare slot.
      // (A multi-file offer never gets here: the flash holds one application image and refuses it at start.)
      const staged = await flash.readStaged()
      if (staged?.image.version !== version) {
        throw new LinkkitError(
          'ERR_PERSISTENCE',
          `the spare slot holds ${staged === undefined ? 'no verified image' : `version ${staged.image.version}`}, not ${version}; not activated`,
        )
      }
      return (await flash.activate()).version
    },
    async close() {
      await flash?.close()
      flash = undefined
    },
  }
}
