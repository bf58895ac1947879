import type { FirmwareImage, FirmwarePersistence, PersistenceOutcome } from '../../src/types.js'

export type PersistenceCall =
  | { op: 'start'; image: FirmwareImage; offset: number }
  | { op: 'write'; offset: number; length: number }
  | { op: 'stop'; outcome: PersistenceOutcome }

export interface SpyHooks {
  /** Runs before each write is passed on; throw from it to make the adapter fail. */
  write?: (chunk: Uint8Array, offset: number) => void | Promise<void>
  /** Runs before stop is passed on. */
  stop?: (outcome: PersistenceOutcome) => void | Promise<void>
}

/** Wraps an adapter and records every call the SDK makes on it (HAL_Firmware_Persistence_* as a log). */
export class SpyPersistence implements FirmwarePersistence {
  readonly calls: PersistenceCall[] = []
  readonly #inner: FirmwarePersistence
  readonly #hooks: SpyHooks

  constructor(inner: FirmwarePersistence, hooks: SpyHooks = {}) {
    this.#inner = inner
    this.#hooks = hooks
    if (inner.resumeOffset) this.resumeOffset = (image) => inner.resumeOffset!(image)
    if (inner.readBack) this.readBack = (image, length) => inner.readBack!(image, length)
  }

  resumeOffset?: (image: FirmwareImage) => Promise<number> | number
  readBack?: (image: FirmwareImage, length: number) => AsyncIterable<Uint8Array>

  get starts(): FirmwareImage[] {
    return this.calls.flatMap((c) => (c.op === 'start' ? [c.image] : []))
  }

  get stops(): PersistenceOutcome[] {
    return this.calls.flatMap((c) => (c.op === 'stop' ? [c.outcome] : []))
  }

  get bytesWritten(): number {
    return this.calls.reduce((sum, c) => sum + (c.op === 'write' ? c.length : 0), 0)
  }

  async start(image: FirmwareImage, offset: number): Promise<void> {
    this.calls.push({ op: 'start', image, offset })
    await this.#inner.start(image, offset)
  }

  async write(chunk: Uint8Array, offset: number): Promise<void> {
    this.calls.push({ op: 'write', offset, length: chunk.length })
    await this.#hooks.write?.(chunk, offset)
    await this.#inner.write(chunk, offset)
  }

  async stop(outcome: PersistenceOutcome): Promise<void> {
    this.calls.push({ op: 'stop', outcome })
    await this.#hooks.stop?.(outcome)
    await this.#inner.stop(outcome)
  }
}
