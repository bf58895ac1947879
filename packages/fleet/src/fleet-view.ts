import { type Counters, type FleetMetrics, stepBucket } from './metrics.js'
import type { SimDevice, SimStatus } from './sim-device.js'

/** One device of `fleet.devices()`. */
export interface DeviceView {
  /** The product key. */
  productKey: string
  /** The device name. */
  deviceName: string
  /** Where it is: `queued`, `connecting`, `online`, `offline` or `closed`. */
  status: SimStatus
  /** The version it runs. */
  version: string
  /** Its last OTA step (`-4`…`100`, `101` once running the new version); undefined before any offer. */
  otaStep: number | undefined
  /** The fault it was given, if any. */
  fault: 'refuse' | 'stall' | 'fail' | undefined
}

/** What `fleet.devices()` says of one device. */
export function deviceView(sim: SimDevice): DeviceView {
  return {
    productKey: sim.triple.productKey,
    deviceName: sim.triple.deviceName,
    status: sim.status,
    version: sim.version,
    otaStep: sim.otaStep,
    fault: sim.fault?.kind,
  }
}

export interface MetricsInput {
  sims: readonly SimDevice[]
  counters: Counters
  now: number
  at: number
  elapsedMs: number
  connected: number
  connecting: number
  queued: number
  windowSeconds: number
}

export function metricsOf(m: MetricsInput): FleetMetrics {
  const c = m.counters
  const steps: Record<string, number> = {}
  let closed = 0
  for (const sim of m.sims) {
    if (sim.status === 'closed') closed++
    if (sim.otaStep === undefined) continue
    const key = stepBucket(sim.otaStep)
    steps[key] = (steps[key] ?? 0) + 1
  }
  return {
    at: m.at,
    elapsedMs: Math.round(m.elapsedMs),
    total: m.sims.length,
    connected: m.connected,
    connecting: m.connecting,
    queued: m.queued,
    offline: m.sims.length - m.connected - m.connecting - m.queued - closed,
    connects: c.connects,
    connectFailures: c.connectFailures,
    disconnects: c.disconnects,
    churned: c.churned,
    connectsPerSecond: round(c.connectRate.rate(m.now, m.elapsedMs)),
    posts: {
      sent: c.postsSent,
      answered: c.postsAnswered,
      failed: c.postsFailed,
      lost: c.postsLost,
      perSecond: round(c.postRate.rate(m.now, m.elapsedMs)),
    },
    roundTripMs: c.roundTrips.percentiles(),
    services: c.services,
    propertySets: c.propertySets,
    ota: { offers: c.otaOffers, succeeded: c.otaSucceeded, failed: c.otaFailed, steps },
    errors: Object.fromEntries(c.errors),
    windowMs: m.windowSeconds * 1000,
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10
}
