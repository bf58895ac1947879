/**
 * A firmware body's bytes between the socket and the sink, in one reused ring of memory. Node's
 * http client hands out a fresh 64 KiB buffer per socket read, and V8 frees them only after about
 * 32 MiB of them are dead: a third of a download's peak RSS (docs/performance.md, "FOTA download").
 * Here the socket reads into one buffer (`onread`), the bytes are copied into this ring, and the
 * reader borrows a region of it until it asks for the next one.
 *
 * Bytes that arrive while the ring is full (a TLS socket delivers the records it has already
 * decrypted after `pause()`) are kept in order in fresh buffers: a few KiB, rarely.
 */
export class BodyRing {
  readonly #ring: Buffer
  readonly #maxLoan: number
  /** Totals since the start: bytes written, bytes lent to the reader, bytes it gave back. */
  #written = 0
  #lent = 0
  #released = 0
  readonly #spill: Buffer[] = []

  constructor(bytes: number, maxLoanBytes: number) {
    this.#ring = Buffer.allocUnsafe(bytes)
    this.#maxLoan = maxLoanBytes
  }

  /** Room left in the ring. */
  get free(): number {
    return this.#ring.length - (this.#written - this.#released)
  }

  /** Whether nothing is waiting to be borrowed. */
  get empty(): boolean {
    return this.#lent === this.#written && this.#spill.length === 0
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
    if (this.#lent < this.#written) {
      const at = this.#lent % this.#ring.length
      const n = Math.min(this.#written - this.#lent, this.#ring.length - at, this.#maxLoan)
      this.#lent += n
      return this.#ring.subarray(at, at + n)
    }
    return this.#spill.shift()
  }
}
