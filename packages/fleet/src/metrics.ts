/** What a fleet reports: `fleet.metrics()`, and each `--json` line of `linkkit fleet`. */
export interface FleetMetrics {
  /** When the snapshot was taken, ms since the epoch. */
  at: number
  /** Since `simulateFleet` started, ms. */
  elapsedMs: number
  /** Devices in the fleet. */
  total: number
  /** Devices online now (connected and subscribed). */
  connected: number
  /** CONNECTs in flight now. */
  connecting: number
  /** Devices waiting for a connect slot (`connectConcurrency`, `connectsPerSecond`). */
  queued: number
  /** Devices offline and not queued: backing off after a failure, churned out, or rebooting. */
  offline: number
  /** Successful connects since the start (first connects and reconnects). */
  connects: number
  /** Connects that failed (refused, timed out, unreachable); each is retried with backoff. */
  connectFailures: number
  /** Connections that dropped without the fleet asking (a kick, a broker restart); each reconnects. */
  disconnects: number
  /** Disconnects the fleet made itself (`churn`). */
  churned: number
  /** Successful connects a second, over the last `windowMs`. */
  connectsPerSecond: number
  /** Property posts. */
  posts: {
    /** Posts sent. */
    sent: number
    /** Posts the cloud answered with code 200. */
    answered: number
    /** Posts refused or timed out (a non-200 reply, no reply within `requestTimeoutMs`). */
    failed: number
    /** Posts cut short because their device went offline while waiting (churn, a drop, a reboot). */
    lost: number
    /** Answered posts a second, over the last `windowMs`. */
    perSecond: number
  }
  /** Round trip of property posts (sent to reply), over the most recent answered posts. */
  roundTripMs: {
    /** Median. */
    p50: number
    /** 99th percentile. */
    p99: number
    /** Posts the percentiles were computed over (at most the last 4096). */
    samples: number
  }
  /** Service calls answered. */
  services: number
  /** Property sets applied. */
  propertySets: number
  /** Firmware upgrades. */
  ota: {
    /** Offers received (pushes and replies to firmware/get). */
    offers: number
    /** Upgrades that ended with the device running the new version. */
    succeeded: number
    /** Upgrades that ended with a negative step reported. */
    failed: number
    /**
     * Devices by their last OTA step: `"0"`, `"25"`, `"50"`, `"75"` (downloading, by quarter),
     * `"100"` (verified, installing), `"upgraded"`, or a failure step `"-1"` … `"-4"`. Devices that
     * never had an offer are not counted.
     */
    steps: Record<string, number>
  }
  /** Errors seen by code (connect failures, refused posts, device `error` events). */
  errors: Record<string, number>
  /** The window of the per-second rates, ms. */
  windowMs: number
}

const RTT_SAMPLES = 4096

/** Counts per second over a sliding window of whole seconds (a ring of buckets). */
export class RateWindow {
  readonly #buckets: Float64Array
  #second = -1

  constructor(readonly seconds: number) {
    this.#buckets = new Float64Array(seconds + 1)
  }

  add(now: number, count = 1): void {
    this.#advance(now)
    const at = this.#second % this.#buckets.length
    this.#buckets[at] = (this.#buckets[at] as number) + count
  }

  /** Average per second over the last `seconds` whole seconds (or since the start, if shorter). */
  rate(now: number, elapsedMs: number): number {
    this.#advance(now)
    let sum = 0
    const current = this.#second % this.#buckets.length
    for (let i = 0; i < this.#buckets.length; i++) if (i !== current) sum += this.#buckets[i] as number
    const span = Math.min(this.seconds, Math.max(1, Math.floor(elapsedMs / 1000)))
    return sum / span
  }

  #advance(now: number): void {
    const second = Math.floor(now / 1000)
    if (this.#second < 0) this.#second = second
    while (this.#second < second) {
      this.#second++
      this.#buckets[this.#second % this.#buckets.length] = 0
      if (second - this.#second > this.#buckets.length) this.#second = second - this.#buckets.length
    }
  }
}

/** The most recent round trips, for percentiles (a fixed ring: no allocation per post). */
export class RoundTrips {
  readonly #ring = new Float64Array(RTT_SAMPLES)
  #count = 0

  add(ms: number): void {
    this.#ring[this.#count % RTT_SAMPLES] = ms
    this.#count++
  }

  percentiles(): { p50: number; p99: number; samples: number } {
    const n = Math.min(this.#count, RTT_SAMPLES)
    if (n === 0) return { p50: 0, p99: 0, samples: 0 }
    const sorted = this.#ring.slice(0, n).sort()
    const at = (q: number) => round((sorted[Math.min(n - 1, Math.ceil(q * n) - 1)] as number) ?? 0)
    return { p50: at(0.5), p99: at(0.99), samples: n }
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100
}

/** The fleet's running counters (plain numbers, bumped in place). */
export class Counters {
  connects = 0
  connectFailures = 0
  disconnects = 0
  churned = 0
  postsSent = 0
  postsAnswered = 0
  postsFailed = 0
  postsLost = 0
  services = 0
  propertySets = 0
  otaOffers = 0
  otaSucceeded = 0
  otaFailed = 0
  readonly errors = new Map<string, number>()
  readonly roundTrips = new RoundTrips()
  readonly connectRate: RateWindow
  readonly postRate: RateWindow

  constructor(windowSeconds: number) {
    this.connectRate = new RateWindow(windowSeconds)
    this.postRate = new RateWindow(windowSeconds)
  }

  error(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1)
  }
}

/** The histogram key of an OTA step (see `FleetMetrics.ota.steps`). */
export function stepBucket(step: number): string {
  if (step === UPGRADED) return 'upgraded'
  if (step < 0) return String(step)
  if (step >= 100) return '100'
  return String(Math.floor(step / 25) * 25)
}

/** `SimDevice.otaStep` of a device that runs the offered version. */
export const UPGRADED = 101
