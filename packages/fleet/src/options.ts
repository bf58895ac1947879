import {
  type BackoffOptions,
  DEFAULT_BACKOFF,
  LinkkitError,
  type LoggerOption,
  type TlsOptions,
} from '@linkkit/core'
import type { ThingModel, ThingModelSource } from '@linkkit/sdk'
import { FAULT_KINDS, type FaultRule } from './faults.js'
import { FlashSimPool } from './flash-pool.js'
import type { DeviceTriple } from './triples.js'

/** Where a fleet's devices keep the firmware they download. */
export type FleetStore = 'memory' | FlashSimPool

/** How the fleet takes firmware over the air. */
export interface FleetOtaOptions {
  /**
   * `'memory'`: each download goes into a `MemoryPersistence` of its own, dropped once the device
   * rebooted into it. A `FlashSimPool`: downloads borrow one of the pool's simulated flash chips.
   * @default 'memory'
   */
  store?: FleetStore
  /** The version every device runs at start (informed at each connect). @default '1.0.0' */
  version?: string
  /** Accept plain `http://` firmware URLs (the emulator serves http). @default false */
  allowHttp?: boolean
  /** Larger offers are refused with step -4 before any byte is fetched (memory store). @default 67108864 */
  maxImageBytes?: number
}

/** Random disconnects and reconnects. */
export interface FleetChurnOptions {
  /** Mean time a device stays online before it drops (exponentially distributed), ms. */
  meanUptimeMs: number
  /** Mean time a dropped device stays offline before it queues to reconnect, ms. @default 2000 */
  meanDowntimeMs?: number
}

/** Options of `simulateFleet`. Give `devices` or `triplesFile`; everything else has a default. */
export interface FleetOptions {
  /** The broker: the emulator's `mqttUrl`, Mosquitto, or a real instance (`mqtts://…`). */
  url: string
  /** The devices, as triples. */
  devices?: readonly DeviceTriple[]
  /** A file of triples (see `readTriples`), read when `devices` is not given. */
  triplesFile?: string
  /** The thing model every device follows (compiled once, shared): a TSL object, a compiled one, or a path. */
  thingModel?: ThingModelSource | ThingModel
  /** Each device posts all its properties this often, ms; `0` posts nothing. @default 10000 */
  postIntervalMs?: number
  /** Firmware over the air. */
  ota?: FleetOtaOptions
  /** Random disconnects and reconnects, or `false`. @default false */
  churn?: FleetChurnOptions | false
  /** Faults for shares of the fleet. Shares must add up to at most 1. @default [] */
  faults?: readonly FaultRule[]
  /** CONNECTs in flight at once, at most. @default 100 */
  connectConcurrency?: number
  /** CONNECTs started in any one second, at most. @default unlimited (only `connectConcurrency` bounds them) */
  connectsPerSecond?: number
  /** Delay before a device retries after a failed connect or a dropped connection. @default { initialDelayMs: 1000, maxDelayMs: 60000, multiplier: 2, jitter: 0.5 } */
  backoff?: Partial<BackoffOptions>
  /** MQTT keepalive of each device. @default 60 */
  keepaliveSeconds?: number
  /** How long a post waits for its reply, ms. @default 10000 */
  requestTimeoutMs?: number
  /** TLS settings for `mqtts://` brokers; verification stays on unless turned off by name. */
  tls?: TlsOptions
  /** Seed of the random choices (fault shares, churn, values); the same seed repeats a run. @default random */
  seed?: number
  /** Period of the fleet's single timer, ms. @default 20 */
  tickMs?: number
  /** Window of the per-second rates in `metrics()`, s. @default 5 */
  windowSeconds?: number
  /** The fleet's own logger (devices stay silent). @default silent */
  logger?: LoggerOption
}

/** `FleetOptions` after validation, with defaults filled in. */
export interface ResolvedFleetOptions {
  url: string
  postIntervalMs: number
  store: FleetStore
  version: string
  allowHttp: boolean
  maxImageBytes: number
  churn: Required<FleetChurnOptions> | undefined
  faults: readonly FaultRule[]
  connectConcurrency: number
  connectsPerSecond: number
  backoff: BackoffOptions
  keepaliveSeconds: number
  requestTimeoutMs: number
  tls: TlsOptions | undefined
  seed: number
  tickMs: number
  windowSeconds: number
  logger: LoggerOption | undefined
}

function invalid(message: string): LinkkitError {
  return new LinkkitError('ERR_INVALID_OPTIONS', message)
}

function number(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
    throw invalid(`${name} must be a number from ${min} to ${max}`)
  }
  return value
}

function integer(value: unknown, name: string, fallback: number, min: number, max: number): number {
  const n = number(value, name, fallback, min, max)
  if (!Number.isInteger(n)) throw invalid(`${name} must be an integer`)
  return n
}

/** Validates once and returns a new frozen object; the caller's object is never written. */
export function resolveFleetOptions(options: FleetOptions): Readonly<ResolvedFleetOptions> {
  if (typeof options !== 'object' || options === null) throw invalid('simulateFleet needs an options object')
  if (typeof options.url !== 'string' || !/^(mqtts?|tcp|ssl|tls|wss?):\/\//.test(options.url)) {
    throw invalid('url must be an mqtt://, mqtts://, ws:// or wss:// broker URL')
  }
  const ota = options.ota ?? {}
  const store = ota.store ?? 'memory'
  if (store !== 'memory' && !(store instanceof FlashSimPool)) {
    throw invalid("ota.store must be 'memory' or a FlashSimPool")
  }
  const churn = options.churn === undefined || options.churn === false ? undefined : options.churn
  const faults = [...(options.faults ?? [])]
  let shares = 0
  for (const [i, rule] of faults.entries()) {
    if (typeof rule !== 'object' || rule === null || !FAULT_KINDS.has(rule.kind)) {
      throw invalid(`faults[${i}].kind must be 'refuse', 'stall' or 'fail'`)
    }
    shares += number(rule.share, `faults[${i}].share`, 0, 0, 1)
    number(rule.atPercent, `faults[${i}].atPercent`, 50, 0, 99)
  }
  if (shares > 1 + 1e-9) throw invalid('the shares of faults add up to more than 1')
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff }
  number(backoff.initialDelayMs, 'backoff.initialDelayMs', 0, 0, 3_600_000)
  number(backoff.maxDelayMs, 'backoff.maxDelayMs', 0, backoff.initialDelayMs, 3_600_000)
  number(backoff.multiplier, 'backoff.multiplier', 1, 1, 100)
  number(backoff.jitter, 'backoff.jitter', 0, 0, 1)
  return Object.freeze({
    url: options.url,
    postIntervalMs: integer(options.postIntervalMs, 'postIntervalMs', 10_000, 0, 86_400_000),
    store,
    version: typeof ota.version === 'string' && ota.version.length > 0 ? ota.version : '1.0.0',
    allowHttp: ota.allowHttp === true,
    maxImageBytes: integer(ota.maxImageBytes, 'ota.maxImageBytes', 64 * 1024 * 1024, 0, 2 ** 40),
    churn:
      churn === undefined
        ? undefined
        : {
            meanUptimeMs: number(churn.meanUptimeMs ?? 0, 'churn.meanUptimeMs', 0, 1, 2 ** 40),
            meanDowntimeMs: number(churn.meanDowntimeMs, 'churn.meanDowntimeMs', 2000, 0, 2 ** 40),
          },
    faults: Object.freeze(faults.map((rule) => Object.freeze({ ...rule }))),
    connectConcurrency: integer(options.connectConcurrency, 'connectConcurrency', 100, 1, 100_000),
    connectsPerSecond: number(
      options.connectsPerSecond,
      'connectsPerSecond',
      Number.POSITIVE_INFINITY,
      1,
      Number.POSITIVE_INFINITY,
    ),
    backoff,
    keepaliveSeconds: integer(options.keepaliveSeconds, 'keepaliveSeconds', 60, 1, 1200),
    requestTimeoutMs: integer(options.requestTimeoutMs, 'requestTimeoutMs', 10_000, 1, 3_600_000),
    tls: options.tls,
    seed: integer(options.seed, 'seed', Math.floor(Math.random() * 2 ** 31), 0, 2 ** 32 - 1),
    tickMs: integer(options.tickMs, 'tickMs', 20, 1, 10_000),
    windowSeconds: integer(options.windowSeconds, 'windowSeconds', 5, 1, 3600),
    logger: options.logger,
  })
}
