/**
 * Ids of the requests the platform sends: decimal strings within 0–4294967295, the range the
 * docs give for Alink ids (docs/protocol.md §2.1). They count up from a seed taken from the clock,
 * so two runs of the emulator seldom hand a device the same ids.
 */
export class DownlinkIds {
  #last = Date.now() % 1_000_000_000

  /** The next id. */
  next(): string {
    this.#last = this.#last === 4_294_967_295 ? 0 : this.#last + 1
    return String(this.#last)
  }
}
