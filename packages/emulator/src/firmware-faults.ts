/**
 * One armed fault. `remaining` counts how many more times it may fire; `Infinity` keeps it until
 * `clear()`. Faults that depend on a position fire only when a response actually reaches it.
 */
export class ArmedFault<T> {
  constructor(
    readonly spec: T,
    public remaining: number,
  ) {}

  /** Uses up one firing; false when the fault is spent (another response may have used it). */
  fire(): boolean {
    if (this.remaining <= 0) return false
    this.remaining -= 1
    return true
  }
}

export interface CutSpec {
  /** `reset`: TCP RST; `truncate`: orderly close (FIN) after the bytes were flushed. */
  kind: 'reset' | 'truncate'
  afterBytes: number
}

export interface StallSpec {
  afterBytes: number
  ms: number
}

/**
 * Faults the firmware server injects, either for every file (`server.faults`) or for one
 * (`server.faultsFor(id)`). Byte counts in `resetAfter`, `truncate` and `stallAfter` are body bytes
 * of one response (a resumed ranged GET counts from its own first byte); `corruptByte` takes an
 * offset in the file. `times` says how many responses a fault hits (default 1, `Infinity` =
 * persistent until `clear()`); `throttle` and `extraBytes` describe the server and last until cleared.
 * Every method returns `this`, so faults chain: `faults.status(503, 2).resetAfter(4096)`.
 */
export class FirmwareFaults {
  readonly #statuses: ArmedFault<number>[] = []
  readonly #cuts: ArmedFault<CutSpec>[] = []
  readonly #stalls: ArmedFault<StallSpec>[] = []
  readonly #corruptions: ArmedFault<number>[] = []
  #bytesPerSecond: number | undefined
  #extraBytes = 0

  /** Destroy the connection with a TCP reset after `bytes` body bytes (the client may see fewer: an RST can discard data in flight). */
  resetAfter(bytes: number, times = 1): this {
    this.#cuts.push(new ArmedFault({ kind: 'reset', afterBytes: count(bytes, 'bytes') }, countTimes(times)))
    return this
  }

  /** Announce the full Content-Length but close the connection cleanly after exactly `bytes` body bytes. */
  truncate(bytes: number, times = 1): this {
    this.#cuts.push(
      new ArmedFault({ kind: 'truncate', afterBytes: count(bytes, 'bytes') }, countTimes(times)),
    )
    return this
  }

  /** Stop sending after `bytes` body bytes, keeping the connection open, for `ms` (default: for good). */
  stallAfter(bytes: number, ms = Number.POSITIVE_INFINITY, times = 1): this {
    if (!(ms > 0)) throw new RangeError('ms must be > 0')
    this.#stalls.push(new ArmedFault({ afterBytes: count(bytes, 'bytes'), ms }, countTimes(times)))
    return this
  }

  /** Flip every bit of the byte at file offset `offset` in what is sent (the stored image is untouched). */
  corruptByte(offset: number, times = 1): this {
    this.#corruptions.push(new ArmedFault(count(offset, 'offset'), countTimes(times)))
    return this
  }

  /** Answer the next `times` requests with this HTTP status (and a short text body) instead of the file. */
  status(code: number, times = 1): this {
    if (!Number.isInteger(code) || code < 200 || code > 599)
      throw new RangeError('code must be an HTTP status 200-599')
    this.#statuses.push(new ArmedFault(code, countTimes(times)))
    return this
  }

  /** Pace every response body to about `bytesPerSecond`. */
  throttle(bytesPerSecond: number): this {
    if (!(bytesPerSecond > 0)) throw new RangeError('bytesPerSecond must be > 0')
    this.#bytesPerSecond = bytesPerSecond
    return this
  }

  /**
   * Serve a file of a different size than the offer says, with headers that agree with the body:
   * `n > 0` appends `n` zero bytes (a long body), `n < 0` drops the last `-n` bytes (a short body).
   */
  extraBytes(n: number): this {
    if (!Number.isInteger(n)) throw new RangeError('n must be an integer')
    this.#extraBytes = n
    return this
  }

  /** Removes every fault. */
  clear(): this {
    this.#statuses.length = 0
    this.#cuts.length = 0
    this.#stalls.length = 0
    this.#corruptions.length = 0
    this.#bytesPerSecond = undefined
    this.#extraBytes = 0
    return this
  }

  /** @internal The next armed status fault, consumed. */
  takeStatus(): number | undefined {
    return this.#statuses.find((fault) => fault.fire())?.spec
  }

  /** @internal Faults a body being sent now may hit. */
  armed(): {
    cuts: ArmedFault<CutSpec>[]
    stalls: ArmedFault<StallSpec>[]
    corruptions: ArmedFault<number>[]
  } {
    const live = <T>(list: ArmedFault<T>[]) => list.filter((fault) => fault.remaining > 0)
    return { cuts: live(this.#cuts), stalls: live(this.#stalls), corruptions: live(this.#corruptions) }
  }

  /** @internal */
  get bytesPerSecond(): number | undefined {
    return this.#bytesPerSecond
  }

  /** @internal */
  get extra(): number {
    return this.#extraBytes
  }
}

function count(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`${name} must be a non-negative integer`)
  return value
}

function countTimes(times: number): number {
  if (times !== Number.POSITIVE_INFINITY && (!Number.isInteger(times) || times < 1)) {
    throw new RangeError('times must be a positive integer or Infinity')
  }
  return times
}
