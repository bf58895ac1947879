/** Work the fleet runs on every tick, with the tick's time (`performance.now()`). */
export type TickHook = (now: number) => void

interface Delayed {
  at: number
  run: () => void
}

/**
 * The fleet's only timer: every `tickMs` it runs the hooks (posts, churn, the connect queue)
 * and the delayed tasks that are due (reconnect backoffs, churned devices coming back). Ten
 * thousand devices then cost one timer, not ten thousand. Delayed tasks wait in a binary heap.
 */
export class Scheduler {
  readonly tickMs: number
  readonly #hooks: TickHook[] = []
  readonly #heap: Delayed[] = []
  readonly #now: () => number
  #timer: NodeJS.Timeout | undefined

  constructor(tickMs: number, now: () => number = () => performance.now()) {
    this.tickMs = tickMs
    this.#now = now
  }

  /** The scheduler's clock (ms, monotonic). */
  now(): number {
    return this.#now()
  }

  /** Runs `hook` on every tick, in the order added. */
  every(hook: TickHook): void {
    this.#hooks.push(hook)
  }

  /** Runs `run` on the first tick at least `delayMs` from now. */
  after(delayMs: number, run: () => void): void {
    const heap = this.#heap
    heap.push({ at: this.#now() + delayMs, run })
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if ((heap[parent] as Delayed).at <= (heap[i] as Delayed).at) break
      ;[heap[parent], heap[i]] = [heap[i] as Delayed, heap[parent] as Delayed]
      i = parent
    }
  }

  /** Delayed tasks not run yet. */
  get pending(): number {
    return this.#heap.length
  }

  start(): void {
    if (this.#timer !== undefined) return
    this.#timer = setInterval(() => this.tick(), this.tickMs)
  }

  /** One tick: due delayed tasks first, then the hooks. Exposed so tests can drive time. */
  tick(): void {
    const now = this.#now()
    while (this.#heap.length > 0 && (this.#heap[0] as Delayed).at <= now) this.#pop().run()
    for (const hook of this.#hooks) hook(now)
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#heap.length = 0
  }

  #pop(): Delayed {
    const heap = this.#heap
    const top = heap[0] as Delayed
    const last = heap.pop() as Delayed
    if (heap.length > 0) {
      heap[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < heap.length && (heap[l] as Delayed).at < (heap[m] as Delayed).at) m = l
        if (r < heap.length && (heap[r] as Delayed).at < (heap[m] as Delayed).at) m = r
        if (m === i) break
        ;[heap[m], heap[i]] = [heap[i] as Delayed, heap[m] as Delayed]
        i = m
      }
    }
    return top
  }
}
