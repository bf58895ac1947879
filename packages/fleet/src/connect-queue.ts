/**
 * Admission of CONNECTs: at most `concurrency` in flight and, when `perSecond` is set, at most
 * that many started within any 1000 ms (a sliding window: a ring of the last `perSecond` start
 * times). First in, first out; a fleet never turns into a connect storm, be it at start, after a
 * broker restart or under churn.
 */
export class ConnectQueue<T> {
  readonly #items: T[] = []
  #head = 0
  #inFlight = 0
  /** Start times of the last `perSecond` connects (when rate-limited). */
  readonly #starts: Float64Array | undefined
  #startAt = 0
  readonly #concurrency: number
  readonly #start: (item: T) => void

  constructor(concurrency: number, perSecond: number, start: (item: T) => void) {
    this.#concurrency = concurrency
    this.#starts = Number.isFinite(perSecond)
      ? new Float64Array(Math.floor(perSecond)).fill(Number.NEGATIVE_INFINITY)
      : undefined
    this.#start = start
  }

  /** Waiting for a slot. */
  get waiting(): number {
    return this.#items.length - this.#head
  }

  /** CONNECTs started and not finished. */
  get inFlight(): number {
    return this.#inFlight
  }

  push(item: T): void {
    this.#items.push(item)
  }

  /** A started connect finished (either way): its slot is free. */
  done(): void {
    this.#inFlight--
  }

  /** Starts what the limits allow now (`now` in ms, the scheduler's clock). */
  pump(now: number): void {
    const starts = this.#starts
    while (this.#head < this.#items.length && this.#inFlight < this.#concurrency) {
      if (starts !== undefined) {
        // The oldest of the last `perSecond` starts must be a full second old.
        if (now - (starts[this.#startAt] as number) < 1000) break
        starts[this.#startAt] = now
        this.#startAt = (this.#startAt + 1) % starts.length
      }
      const item = this.#items[this.#head] as T
      this.#items[this.#head] = undefined as T
      this.#head++
      this.#inFlight++
      this.#start(item)
    }
    // Compact now and then, so a long run does not keep every item ever queued.
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head)
      this.#head = 0
    }
  }

  /** Drops everything waiting. */
  clear(): void {
    this.#items.length = 0
    this.#head = 0
  }
}
