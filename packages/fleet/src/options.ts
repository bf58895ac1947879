import {
  type BackoffOptions,
  booleanOption,
  checkOption,
  DEFAULT_BACKOFF,
  integerOption,
  type LoggerOption,
  nonEmptyStringRule,
  numberOption,
  type OptionRule,
  objectRule,
  oneOfRule,
  refusedOption,
  requireOption,
  type TlsOptions,
  urlRule,
} from '@linkkit/core'
import type { ThingModel, ThingModelSource } from '@linkkit/thing-model'
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

const BROKER_URL = urlRule({
  protocols: ['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'tls:', 'ws:', 'wss:'],
  must: 'an mqtt://, mqtts://, ws:// or wss:// broker URL',
})
const FAULT_KIND = oneOfRule(FAULT_KINDS)
const STORE: OptionRule<FleetStore> = {
  test: (v): v is FleetStore => v === 'memory' || v instanceof FlashSimPool,
  must: "'memory' or a FlashSimPool",
}

/** Validates once and returns a new frozen object; the caller's object is never written. */
export function resolveFleetOptions(options: FleetOptions): Readonly<ResolvedFleetOptions> {
  requireOption(options, 'simulateFleet options', objectRule)
  const url = requireOption(options.url, 'url', BROKER_URL)
  const ota = options.ota ?? {}
  const churn = options.churn === undefined || options.churn === false ? undefined : options.churn
  const faults = [...(options.faults ?? [])]
  let shares = 0
  for (const [i, rule] of faults.entries()) {
    requireOption(rule?.kind, `faults[${i}].kind`, FAULT_KIND)
    shares += numberOption(rule.share, `faults[${i}].share`, 0, { max: 1 })
    numberOption(rule.atPercent, `faults[${i}].atPercent`, 50, { max: 99 })
  }
  if (shares > 1 + 1e-9) throw refusedOption('faults', 'have shares that add up to more than 1')
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff }
  numberOption(backoff.initialDelayMs, 'backoff.initialDelayMs', 0, { max: 3_600_000 })
  numberOption(backoff.maxDelayMs, 'backoff.maxDelayMs', 0, { min: backoff.initialDelayMs, max: 3_600_000 })
  numberOption(backoff.multiplier, 'backoff.multiplier', 1, { min: 1, max: 100 })
  numberOption(backoff.jitter, 'backoff.jitter', 0, { max: 1 })
  return Object.freeze({
    url,
    postIntervalMs: integerOption(options.postIntervalMs, 'postIntervalMs', 10_000, {
      min: 0,
      max: 86_400_000,
    }),
    store: checkOption(ota.store, 'ota.store', STORE, 'memory'),
    version: checkOption(ota.version, 'ota.version', nonEmptyStringRule, '1.0.0'),
    allowHttp: booleanOption(ota.allowHttp, 'ota.allowHttp', false),
    maxImageBytes: integerOption(ota.maxImageBytes, 'ota.maxImageBytes', 64 * 1024 * 1024, {
      min: 0,
      max: 2 ** 40,
    }),
    churn:
      churn === undefined
        ? undefined
        : {
            meanUptimeMs: numberOption(churn.meanUptimeMs ?? 0, 'churn.meanUptimeMs', 0, {
              min: 1,
              max: 2 ** 40,
            }),
            meanDowntimeMs: numberOption(churn.meanDowntimeMs, 'churn.meanDowntimeMs', 2000, {
              max: 2 ** 40,
            }),
          },
    faults: Object.freeze(faults.map((rule) => Object.freeze({ ...rule }))),
    connectConcurrency: integerOption(options.connectConcurrency, 'connectConcurrency', 100, {
      max: 100_000,
    }),
    connectsPerSecond: numberOption(
      options.connectsPerSecond,
      'connectsPerSecond',
      Number.POSITIVE_INFINITY,
      {
        min: 1,
      },
    ),
    backoff,
    keepaliveSeconds: integerOption(options.keepaliveSeconds, 'keepaliveSeconds', 60, { max: 1200 }),
    requestTimeoutMs: integerOption(options.requestTimeoutMs, 'requestTimeoutMs', 10_000, { max: 3_600_000 }),
    tls: options.tls,
    seed: integerOption(options.seed, 'seed', Math.floor(Math.random() * 2 ** 31), {
      min: 0,
      max: 2 ** 32 - 1,
    }),
    tickMs: integerOption(options.tickMs, 'tickMs', 20, { max: 10_000 }),
    windowSeconds: integerOption(options.windowSeconds, 'windowSeconds', 5, { max: 3600 }),
    logger: options.logger,
  })
}
