/**
 * A second reader of a ring's bytes, beside the download loop: the digest worker of a signed MD5
 * offer, which hashes the lent regions in place (docs/performance.md, "FOTA download"). Positions
 * are absolute (bytes written into the ring since it was made).
 */
export interface RingReader {
  /** The first position the reader still has to read; `Infinity` when it holds nothing. */
  heldFrom(): number
  /** Resolves once the reader may have let go of some bytes, or failed (then it holds nothing). */
  progress(): Promise<void>
}

/**
 * A firmware body's bytes between the socket and the sink, in one reused ring of memory. Node's
 * http client hands out a fresh 64 KiB buffer per socket read, and V8 frees them only after about
 * 32 MiB of them are dead: a third of a download's peak RSS (docs/performance.md, "FOTA download").
 * Here the socket reads into one buffer (`onread`), the bytes are copied into this ring, and the
 * reader borrows a region of it until it asks for the next one.
 *
 * Bytes that arrive while the ring is full (a TLS socket delivers the records it has already
 * decrypted after `pause()`) are kept in order in fresh buffers: a few KiB, rarely.
 *
 * With a {@link RingReader} (the ring's memory is then shared with its thread) a region is reused
 * only once both the loop gave it back and the reader is past it. Such a ring outlives one HTTP
 * exchange: each new one calls `restart()`, which drops what the last one left unread.
 */
export class BodyRing {
  readonly #ring: Buffer
  readonly #maxLoan: number
  #reader: RingReader | undefined
  /** Totals since the start: bytes written, bytes lent to the loop, bytes it gave back. */
  #written = 0
  #lent = 0
  #released = 0
  /** The region lent last: where it starts in the ring's positions, and its view. */
  #loanAt = 0
  #loan: Buffer | undefined
  readonly #spill: Buffer[] = []

  /** `memory`: the ring's size (allocated here) or the memory to use (a view of shared memory). */
  constructor(memory: number | Buffer, maxLoanBytes: number) {
    this.#ring = typeof memory === 'number' ? Buffer.allocUnsafe(memory) : memory
    this.#maxLoan = maxLoanBytes
  }

  /** The ring's size in bytes. */
  get size(): number {
    return this.#ring.length
  }

  /** The reader whose progress also frees the ring (set once, before the first write). */
  follow(reader: RingReader): void {
    this.#reader = reader
  }

  /** Whether a second reader lags behind the loop, holding bytes the loop gave back. */
  get readerLags(): boolean {
    return this.#reader !== undefined && this.#reader.heldFrom() < this.#released
  }

  /** Room left in the ring. */
  get free(): number {
    const held =
      this.#reader === undefined ? this.#released : Math.min(this.#released, this.#reader.heldFrom())
    return this.#ring.length - (this.#written - held)
  }

  /** Whether nothing is waiting to be borrowed. */
  get empty(): boolean {
    return this.#lent === this.#written && this.#spill.length === 0
  }

  /** Resolves once the second reader may have freed room (at once without one). */
  progress(): Promise<void> {
    return this.#reader === undefined ? Promise.resolve() : this.#reader.progress()
  }

  /** A new exchange starts: bytes not lent yet (a redirect's body, a failed attempt's rest) are dropped. */
  restart(): void {
    this.#written = this.#lent
    this.#released = this.#lent
    this.#loan = undefined
    this.#spill.length = 0
  }

  /** Copies `bytes` in (the caller reuses its buffer). */
  write(bytes: Uint8Array): void {
    let rest = bytes
    while (rest.length > 0 && this.#spill.length === 0) {
      const room = this.free
      if (room === 0) break
      const at = this.#written % this.#ring.length
      const n = Math.min(rest.length, room, this.#ring.length - at)
      this.#ring.set(rest.subarray(0, n), at)
      this.#written += n
      rest = rest.subarray(n)
    }
    if (rest.length > 0) this.#spill.push(Buffer.from(rest))
  }

  /**
   * Gives back what was borrowed and lends the next bytes, up to `maxLoanBytes` in one piece;
   * `undefined` when none are waiting. The region stays valid until the next call.
   */
  take(): Buffer | undefined {
    this.#released = this.#lent
    this.#loan = undefined
    if (this.#lent < this.#written) {
      const at = this.#lent % this.#ring.length
      const n = Math.min(this.#written - this.#lent, this.#ring.length - at, this.#maxLoan)
      this.#loanAt = this.#lent
      this.#lent += n
      this.#loan = this.#ring.subarray(at, at + n)
      return this.#loan
    }
    return this.#spill.shift()
  }

  /**
   * Where `chunk` starts in the ring's positions when it is a view of the region lent last (the
   * sink's chunk, or a part of it); `undefined` for any other memory (a spilled buffer).
   */
  positionOf(chunk: Uint8Array): number | undefined {
    const loan = this.#loan
    if (loan === undefined || chunk.buffer !== loan.buffer) return undefined
    const from = chunk.byteOffset - loan.byteOffset
    if (from < 0 || from + chunk.length > loan.length) return undefined
    return this.#loanAt + from
  }
}
