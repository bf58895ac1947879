import {
  booleanRule,
  checkOption,
  integerRule,
  type OptionRule,
  objectRule,
  requireOption,
  urlRule,
} from '@linkkit/core'
import { type Logger, pino } from 'pino'
import { type EmulatorClock, isClock, systemClock } from './clock.js'
import { controlTokenOf } from './control/control-token.js'
import { type FirmwareDir, firmwareDirOf } from './control/firmware-file.js'
import { publicBaseUrl } from './public-url.js'
import type { EmulatorOptions } from './types.js'

/** `Emulator.start()` options once checked, every default filled in. */
export interface Settings {
  readonly mqttPort: number
  readonly httpPort: number
  readonly host: string
  readonly minKeepaliveSeconds: number
  readonly registerCloseDelayMs: number
  readonly requestTimeoutMs: number
  readonly noDelay: boolean
  readonly clock: EmulatorClock
  /** The `firmwareBaseUrl` option, normalised; undefined means "the HTTP server's own origin". */
  readonly firmwareBaseUrl: string | undefined
  /** The control API's token, undefined for `controlToken: false`. */
  readonly controlToken: string | undefined
  readonly firmwareDir: FirmwareDir | undefined
  readonly logger: Logger
  /** Scale-out's Redis URL, undefined for a platform in memory. */
  readonly redisUrl: string | undefined
  readonly redisPrefix: string
  readonly redisLeaseMs: number
}

const PORT = integerRule({ min: 0, max: 65_535 })
const DURATION = integerRule({ min: 0, max: 2 ** 31 - 1 })
// Renewed every third of it: under 300 ms a busy event loop would lose it.
const LEASE = integerRule({ min: 300, max: 2 ** 31 - 1 })
const HOST: OptionRule<string> = {
  test: (v): v is string => typeof v === 'string' && v.trim() !== '',
  must: 'a host name or address',
}
const CLOCK: OptionRule<EmulatorClock> = { test: isClock, must: 'an object with now() and setTimer()' }
const LIST: OptionRule<readonly unknown[]> = { test: Array.isArray, must: 'an array' }
const REDIS_URL = urlRule({
  protocols: ['redis:', 'rediss:'],
  must: 'a redis:// or rediss:// URL with a host',
})
// Channel patterns and SCAN patterns are built from it, so glob characters are out.
const REDIS_PREFIX: OptionRule<string> = {
  test: (v): v is string => typeof v === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(v),
  must: '1-64 letters, digits, "_", "." or "-"',
}
const LOGGER: OptionRule<Logger | string> = {
  test: (v): v is Logger | string =>
    typeof v === 'string'
      ? v === 'silent' || Object.hasOwn(pino.levels.values, v)
      : typeof (v as Partial<Logger> | null)?.child === 'function',
  must: "a pino logger or a level ('info', 'debug', …, 'silent')",
}

/** `options[name]` when it satisfies `rule`, `fallback` when absent; ERR_INVALID_OPTIONS otherwise. */
function read<T>(options: EmulatorOptions, name: keyof EmulatorOptions, rule: OptionRule<T>, fallback: T): T {
  return checkOption(options[name], name, rule, fallback)
}

/**
 * Checks every option of `Emulator.start()` in one place and returns them frozen with their
 * defaults (the caller's object is left alone). Throws (rejects, for the firmware directory, which
 * is looked up on disk) ERR_INVALID_OPTIONS naming the option in `details.name`.
 */
export async function resolveStartOptions(options: EmulatorOptions): Promise<Settings> {
  requireOption(options, 'options', objectRule)
  for (const name of ['devices', 'products', 'topology'] as const) read(options, name, LIST, [])
  const host = read(options, 'host', HOST, '127.0.0.1')
  const logger = read<Logger | string>(options, 'logger', LOGGER, 'silent')
  return Object.freeze({
    mqttPort: read(options, 'mqttPort', PORT, 0),
    httpPort: read(options, 'httpPort', PORT, 0),
    host,
    // The platform refuses keepalives below 30 s (docs/protocol.md §1.2); tests lower it.
    minKeepaliveSeconds: read(options, 'minKeepaliveSeconds', DURATION, 30),
    registerCloseDelayMs: read(options, 'registerCloseDelayMs', DURATION, 100),
    requestTimeoutMs: read(options, 'requestTimeoutMs', DURATION, 5000),
    noDelay: read(options, 'noDelay', booleanRule, false),
    clock: read(options, 'clock', CLOCK, systemClock),
    firmwareBaseUrl:
      options.firmwareBaseUrl === undefined
        ? undefined
        : publicBaseUrl(options.firmwareBaseUrl, 'firmwareBaseUrl'),
    controlToken: controlTokenOf(options.controlToken, host),
    firmwareDir: await firmwareDirOf(options.allowedFirmwareDir),
    logger: createLogger(logger),
    redisUrl: read<string | undefined>(options, 'redisUrl', REDIS_URL, undefined),
    redisPrefix: read(options, 'redisPrefix', REDIS_PREFIX, 'linkkit-emulator'),
    redisLeaseMs: read(options, 'redisLeaseMs', LEASE, 15_000),
  })
}

function createLogger(option: Logger | string): Logger {
  if (typeof option !== 'string') return option.child({ component: 'emulator' })
  if (option === 'silent') return pino({ level: 'silent' })
  return pino({ level: option }, pino.destination(2)).child({ component: 'emulator' })
}
