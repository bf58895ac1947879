import { resolve } from 'node:path'
import type { Command } from '../command.js'
import { ExitCode, UsageError } from '../errors.js'
import { LOG_LEVEL_OPTION, logLevel } from '../log-level.js'

const PRODUCT_SECRET_ENV = 'LINKKIT_PRODUCT_SECRET'

export const fleetCommand: Command = {
  name: 'fleet',
  summary: 'Run many simulated devices in one process, with live metrics',
  usage:
    'linkkit fleet --broker <url> (--triples <file> | --register <n> --product <pk> --emulator <url>) [options]',
  description: [
    'Connects every device of a triples file (a JSON array of {productKey, deviceName, deviceSecret},',
    "the emulator's --config file, or productKey,deviceName,deviceSecret lines), or registers --register",
    'new devices on the emulator by dynamic registration (the product needs a productSecret and',
    `"dynamicRegistration": true; the secret is read from ${PRODUCT_SECRET_ENV}). Each device posts the`,
    'properties of --tsl every --interval-ms, answers its services and property sets, and takes firmware',
    'into --store. Connects are bounded (--connect-concurrency, --connects-per-second) and retried with',
    'backoff. --churn-uptime-ms drops random devices; --faults gives shares of the fleet a fault:',
    'refuse (step -1 at once), stall (the download hangs at @percent), fail (the store fails at',
    '@percent: step -4). A summary is redrawn every --every-ms on a terminal; --json prints one',
    '{"event":"metrics",…} line instead. Runs until Ctrl-C or --duration-ms, then disconnects every device.',
  ].join('\n'),
  options: {
    broker: {
      type: 'string',
      value: 'url',
      description: "MQTT broker URL, e.g. the emulator's",
      required: true,
    },
    triples: {
      type: 'string',
      value: 'file',
      description: 'the devices: JSON, emulator config or CSV lines',
    },
    register: { type: 'string', value: 'n', description: 'register n new devices on the emulator instead' },
    product: { type: 'string', value: 'pk', description: 'product of the devices --register creates' },
    'product-secret': {
      type: 'string',
      value: 'ps',
      description: 'its product secret (prefer the environment variable)',
      env: PRODUCT_SECRET_ENV,
    },
    emulator: {
      type: 'string',
      value: 'url',
      description: "the emulator's HTTP URL, where --register registers",
    },
    prefix: {
      type: 'string',
      value: 'text',
      description: 'names of registered devices: <text><i>',
      default: 'fleet-',
    },
    tsl: {
      type: 'string',
      value: 'path',
      description: 'thing model (TSL JSON); without it nothing is posted',
    },
    'interval-ms': {
      type: 'string',
      value: 'ms',
      description: 'time between two posts of a device',
      default: '10000',
    },
    version: {
      type: 'string',
      value: 'v',
      description: 'firmware version the devices run at start',
      default: '1.0.0',
    },
    store: {
      type: 'string',
      value: 'kind',
      description:
        'where firmware goes: memory, or flash:<dir>[:<chips>] (a shared pool of simulated flash chips)',
      default: 'memory',
    },
    'allow-http': {
      type: 'boolean',
      description: 'accept plain http:// firmware URLs (the emulator serves http)',
    },
    'churn-uptime-ms': {
      type: 'string',
      value: 'ms',
      description: 'mean time online before a random drop (no churn without it)',
    },
    'churn-downtime-ms': {
      type: 'string',
      value: 'ms',
      description: 'mean time offline after a drop',
      default: '2000',
    },
    faults: {
      type: 'string',
      value: 'list',
      description: 'kind:share[@percent],… e.g. stall:0.05,refuse:0.1',
    },
    'connect-concurrency': {
      type: 'string',
      value: 'n',
      description: 'CONNECTs in flight at most',
      default: '100',
    },
    'connects-per-second': {
      type: 'string',
      value: 'n',
      description: 'CONNECTs started in any second at most (default: unlimited)',
    },
    seed: { type: 'string', value: 'n', description: 'seed of the random choices (faults, churn, values)' },
    'every-ms': {
      type: 'string',
      value: 'ms',
      description: 'time between two summaries or --json lines',
      default: '1000',
    },
    'duration-ms': {
      type: 'string',
      value: 'ms',
      description: 'stop after this long (default: run until Ctrl-C)',
    },
    'log-level': LOG_LEVEL_OPTION,
    json: { type: 'boolean', description: 'print JSON lines: {"event":"metrics",…} every --every-ms' },
  },
  examples: [
    'linkkit fleet --broker mqtt://127.0.0.1:1883 --triples devices.json --tsl examples/lamp.tsl.json \\',
    '  --interval-ms 5000 --churn-uptime-ms 60000 --faults stall:0.05,refuse:0.05 --allow-http',
    `${PRODUCT_SECRET_ENV}=… linkkit fleet --broker mqtt://127.0.0.1:1883 --emulator http://127.0.0.1:8080 \\`,
    '  --register 1000 --product a1LampDemo01 --tsl examples/lamp.tsl.json --json',
  ],
  async run(options, io) {
    const { runFleet } = await import('../fleet/run-fleet.js')
    const given = (name: string) => options.has(name)
    if (given('triples') === given('register')) throw new UsageError('give either --triples or --register')
    const register = options.integer('register', 1, 1_000_000)
    if (register !== undefined && !(given('product') && given('product-secret') && given('emulator'))) {
      throw new UsageError(
        `--register needs --product, --emulator and the product secret (${PRODUCT_SECRET_ENV})`,
      )
    }
    const triples = options.string('triples')
    return runFleet(
      {
        broker: options.required('broker'),
        triples: triples === undefined ? undefined : resolve(io.cwd, triples),
        register:
          register === undefined
            ? undefined
            : {
                count: register,
                productKey: options.required('product'),
                productSecret: options.required('product-secret'),
                emulator: options.required('emulator'),
                prefix: options.required('prefix'),
              },
        tsl: options.string('tsl') === undefined ? undefined : resolve(io.cwd, options.required('tsl')),
        intervalMs: options.integer('interval-ms', 0, 86_400_000) ?? 10_000,
        version: options.required('version'),
        store: options.required('store'),
        allowHttp: options.flag('allow-http'),
        churnUptimeMs: options.integer('churn-uptime-ms', 1, 2 ** 31),
        churnDowntimeMs: options.integer('churn-downtime-ms', 0, 2 ** 31) ?? 2000,
        faults: options.string('faults'),
        connectConcurrency: options.integer('connect-concurrency', 1, 100_000) ?? 100,
        connectsPerSecond: options.integer('connects-per-second', 1, 1_000_000),
        seed: options.integer('seed', 0, 2 ** 32 - 1),
        everyMs: options.integer('every-ms', 50, 3_600_000) ?? 1000,
        durationMs: options.integer('duration-ms', 1, 2 ** 31),
        logLevel: logLevel(options.required('log-level')),
        json: options.flag('json'),
      },
      io,
    ).then(() => ExitCode.ok)
  },
}
