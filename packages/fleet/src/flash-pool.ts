import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { integerOption, LinkkitError, nonEmptyStringRule, requireOption } from '@linkkit/core'
import { FlashSimPersistence } from '@linkkit/fota'

/** Options of `FlashSimPool.create`. */
export interface FlashSimPoolOptions {
  /** Directory of the flash files (created when missing): `flash-0.bin`, `flash-1.bin`, … */
  dir: string
  /** Simulated flash chips, i.e. downloads that can be written at once. @default 4 */
  size?: number
  /** Size of each A/B slot, header sector included; must hold the largest image. @default 4194304 (4 MiB) */
  slotSizeBytes?: number
  /** Erase unit. @default 4096 */
  sectorSizeBytes?: number
}

/**
 * A few simulated NOR flash chips (`FlashSimPersistence`) shared by a whole fleet: a device that
 * accepts an offer borrows a chip, downloads into its spare slot, activates, boots and confirms
 * the image, then gives the chip back. Ten thousand devices do not need ten thousand flash files;
 * downloads beyond `size` wait for a free chip.
 */
export class FlashSimPool {
  /** The chips. */
  readonly chips: readonly FlashSimPersistence[]
  readonly #free: FlashSimPersistence[]
  readonly #waiting: Array<(chip: FlashSimPersistence) => void> = []
  #closed = false

  private constructor(chips: FlashSimPersistence[]) {
    this.chips = Object.freeze([...chips])
    this.#free = [...chips]
  }

  /** Creates (or overwrites) the flash files, each provisioned with a small factory image. */
  static async create(options: FlashSimPoolOptions): Promise<FlashSimPool> {
    const size = integerOption(options.size, 'FlashSimPool size', 4, { max: 1024 })
    requireOption(options.dir, 'FlashSimPool dir', nonEmptyStringRule)
    await mkdir(options.dir, { recursive: true })
    const chips: FlashSimPersistence[] = []
    for (let i = 0; i < size; i++) {
      chips.push(
        await FlashSimPersistence.provision({
          path: join(options.dir, `flash-${i}.bin`),
          slotSizeBytes: options.slotSizeBytes ?? 4 * 1024 * 1024,
          sectorSizeBytes: options.sectorSizeBytes ?? 4096,
          image: { version: '0.0.0-factory', data: new TextEncoder().encode('factory image') },
        }),
      )
    }
    return new FlashSimPool(chips)
  }

  /** Chips free now. */
  get available(): number {
    return this.#free.length
  }

  /** Devices waiting for a chip. */
  get waiting(): number {
    return this.#waiting.length
  }

  /** Borrows a chip, waiting for one when all are busy; rejects ERR_ABORTED when `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<FlashSimPersistence> {
    if (this.#closed) return Promise.reject(new LinkkitError('ERR_CLOSED', 'the flash pool was closed'))
    const chip = this.#free.pop()
    if (chip !== undefined) return Promise.resolve(chip)
    return new Promise((resolve, reject) => {
      const take = (got: FlashSimPersistence) => {
        signal?.removeEventListener('abort', abort)
        resolve(got)
      }
      const abort = () => {
        const at = this.#waiting.indexOf(take)
        if (at >= 0) this.#waiting.splice(at, 1)
        reject(new LinkkitError('ERR_ABORTED', 'stopped waiting for a flash chip'))
      }
      if (signal?.aborted) return abort()
      signal?.addEventListener('abort', abort, { once: true })
      this.#waiting.push(take)
    })
  }

  /** Gives a chip back (to the next waiting device, if any). */
  release(chip: FlashSimPersistence): void {
    const next = this.#waiting.shift()
    if (next !== undefined) next(chip)
    else this.#free.push(chip)
  }

  /** Closes every chip's file. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const chip of this.chips) await chip.close()
  }

  /** Same as `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}
