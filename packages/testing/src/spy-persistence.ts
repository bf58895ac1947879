/**
 * `FirmwarePersistence` of @linkkit/fota by its shape, with the image and outcome types as
 * parameters: the helpers here depend on no SDK package, so every package's tests may use them.
 */
export interface PersistenceLike<Image, Outcome> {
  start(image: Image, offset: number): Promise<void> | void
  write(chunk: Uint8Array, offset: number): Promise<void> | void
  stop(outcome: Outcome): Promise<void> | void
  resumeOffset?(image: Image): Promise<number> | number
  readBack?(image: Image, length: number): AsyncIterable<Uint8Array>
}

export type PersistenceCall<Image, Outcome> =
  | { op: 'start'; image: Image; offset: number }
  | { op: 'write'; offset: number; length: number }
  | { op: 'stop'; outcome: Outcome }

export interface SpyHooks<Outcome> {
  /** Runs before each write is passed on; throw from it to make the adapter fail. */
  write?: (chunk: Uint8Array, offset: number) => void | Promise<void>
  /** Runs before stop is passed on. */
  stop?: (outcome: Outcome) => void | Promise<void>
}

/** Wraps an adapter and records every call the SDK makes on it (HAL_Firmware_Persistence_* as a log). */
export class SpyPersistence<Image, Outcome> implements PersistenceLike<Image, Outcome> {
  readonly calls: Array<PersistenceCall<Image, Outcome>> = []
  readonly #inner: PersistenceLike<Image, Outcome>
  readonly #hooks: SpyHooks<Outcome>

  constructor(inner: PersistenceLike<Image, Outcome>, hooks: SpyHooks<Outcome> = {}) {
    this.#inner = inner
    this.#hooks = hooks
    if (inner.resumeOffset) this.resumeOffset = (image) => inner.resumeOffset!(image)
    if (inner.readBack) this.readBack = (image, length) => inner.readBack!(image, length)
  }

  resumeOffset?: (image: Image) => Promise<number> | number
  readBack?: (image: Image, length: number) => AsyncIterable<Uint8Array>

  get starts(): Image[] {
    return this.calls.flatMap((c) => (c.op === 'start' ? [c.image] : []))
  }

  get stops(): Outcome[] {
    return this.calls.flatMap((c) => (c.op === 'stop' ? [c.outcome] : []))
  }

  get bytesWritten(): number {
    return this.calls.reduce((sum, c) => sum + (c.op === 'write' ? c.length : 0), 0)
  }

  async start(image: Image, offset: number): Promise<void> {
    this.calls.push({ op: 'start', image, offset })
    await this.#inner.start(image, offset)
  }

  async write(chunk: Uint8Array, offset: number): Promise<void> {
    this.calls.push({ op: 'write', offset, length: chunk.length })
    await this.#hooks.write?.(chunk, offset)
    await this.#inner.write(chunk, offset)
  }

  async stop(outcome: Outcome): Promise<void> {
    this.calls.push({ op: 'stop', outcome })
    await this.#hooks.stop?.(outcome)
    await this.#inner.stop(outcome)
  }
}
