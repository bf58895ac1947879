import {
  FlashSimPool,
  type FleetMetrics,
  type FleetOptions,
  registerDevices,
  simulateFleet,
} from '@linkkit/fleet'
import { UsageError } from '../errors.js'
import { type CliIo, Output } from '../io.js'
import type { LogLevel } from '../log-level.js'
import { parseFaults, parseStore } from './fleet-args.js'
import { SummaryView } from './summary.js'

export interface FleetRunOptions {
  broker: string
  triples: string | undefined
  register:
    | { count: number; productKey: string; productSecret: string; emulator: string; prefix: string }
    | undefined
  tsl: string | undefined
  intervalMs: number
  version: string
  store: string
  allowHttp: boolean
  churnUptimeMs: number | undefined
  churnDowntimeMs: number
  faults: string | undefined
  connectConcurrency: number
  connectsPerSecond: number | undefined
  seed: number | undefined
  everyMs: number
  durationMs: number | undefined
  logLevel: LogLevel
  json: boolean
}

/** Runs the fleet until the signal aborts or the duration ends; prints metrics all along and once more at the end. */
export async function runFleet(o: FleetRunOptions, io: CliIo): Promise<void> {
  const out = new Output(io, o.json)
  if (!/^(mqtts?|tcp|ssl|tls|wss?):\/\//.test(o.broker)) {
    throw new UsageError(`--broker must be an mqtt://, mqtts://, ws:// or wss:// URL, got '${o.broker}'`)
  }
  const faults = parseFaults(o.faults)
  const store = parseStore(o.store)
  const devices =
    o.register === undefined
      ? undefined
      : await registerDevices({
          registerUrl: o.register.emulator,
          productKey: o.register.productKey,
          productSecret: o.register.productSecret,
          count: o.register.count,
          prefix: o.register.prefix,
          allowHttp: o.register.emulator.startsWith('http:'),
          signal: io.signal,
        })
  if (devices !== undefined) out.text(`registered ${devices.length} devices of ${o.register?.productKey}`)
  await using pool =
    store.kind === 'flash' ? await FlashSimPool.create({ dir: store.dir, size: store.size }) : undefined
  const options: FleetOptions = {
    url: o.broker,
    ...(devices === undefined ? { triplesFile: o.triples } : { devices }),
    ...(o.tsl === undefined ? {} : { thingModel: o.tsl }),
    postIntervalMs: o.tsl === undefined ? 0 : o.intervalMs,
    ota: { store: pool ?? 'memory', version: o.version, allowHttp: o.allowHttp },
    churn:
      o.churnUptimeMs === undefined
        ? false
        : { meanUptimeMs: o.churnUptimeMs, meanDowntimeMs: o.churnDowntimeMs },
    faults,
    connectConcurrency: o.connectConcurrency,
    ...(o.connectsPerSecond === undefined ? {} : { connectsPerSecond: o.connectsPerSecond }),
    ...(o.seed === undefined ? {} : { seed: o.seed }),
    logger: o.logLevel,
  }
  await using fleet = await simulateFleet(options)
  out.emit(`fleet of ${fleet.size} devices on ${o.broker}`, {
    event: 'started',
    total: fleet.size,
    broker: o.broker,
  })
  const view = new SummaryView((text) => io.stdout.write(text), io.stdout.isTTY === true)
  const report = (m: FleetMetrics) => (o.json ? out.data({ event: 'metrics', ...m }) : view.draw(m))
  const timer = setInterval(() => report(fleet.metrics()), o.everyMs)
  try {
    await stopped(io.signal, o.durationMs)
  } finally {
    clearInterval(timer)
  }
  report(fleet.metrics())
  await fleet.close()
  out.emit(`closed: ${fleet.size} devices disconnected`, { event: 'closed', total: fleet.size })
}

function stopped(signal: AbortSignal, durationMs: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = durationMs === undefined ? undefined : setTimeout(done, durationMs)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    if (signal.aborted) done()
    else signal.addEventListener('abort', done, { once: true })
  })
}
