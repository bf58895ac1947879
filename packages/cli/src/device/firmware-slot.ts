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

/** Slots of the simulated flash; an image must fit in one (its first sector holds the header). */
const FLASH_SLOT_BYTES = 4 * 1024 * 1024
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
  boot(version: string): Promise<Booted>
  /** Returns the version the next boot runs. */
  install(version: string): Promise<string>
  close(): Promise<void>
}

/** Parses `--persistence`. */
export function firmwareSlot(text: string, cwd: string): FirmwareSlot {
  if (text === 'memory') return memorySlot()
  const match = /^(file|flash):(.+)$/.exec(text)
  if (match === null)
    throw new UsageError(`--persistence takes memory, file:<path> or flash:<path>, got '${text}'`)
  const path = resolve(cwd, match[2] ?? '')
  return match[1] === 'file' ? fileSlot(path) : flashSlot(path)
}

function memorySlot(): FirmwareSlot {
  const persistence = new MemoryPersistence({ maxSizeBytes: 256 * 1024 * 1024 })
  return {
    label: 'memory',
    boot: async (version) => ({ persistence, version, note: undefined }),
    install: async (version) => version,
    close: async () => {},
  }
}

function fileSlot(path: string): FirmwareSlot {
  let current: FilePersistence | undefined
  return {
    label: `file:${path}`,
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

function flashSlot(path: string): FirmwareSlot {
  let flash: FlashSimPersistence | undefined
  return {
    label: `flash:${path}`,
    async boot(version) {
      await flash?.close()
      const fresh = !existsSync(path)
      flash = fresh
        ? await FlashSimPersistence.provision({
            path,
            slotSizeBytes: FLASH_SLOT_BYTES,
            image: { version, data: randomBytes(FACTORY_IMAGE_BYTES) },
          })
        : new FlashSimPersistence({ path, slotSizeBytes: FLASH_SLOT_BYTES })
      const boot = await flash.boot()
      const trial = (await flash.state()).trial
      // The simulated firmware runs fine, so a trial boot of a new image is confirmed at once.
      if (trial) await flash.confirm()
      const notes = [
        fresh ? `new flash with factory firmware ${version}` : undefined,
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
