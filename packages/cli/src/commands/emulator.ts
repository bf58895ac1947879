import { once } from 'node:events'
import { resolve } from 'node:path'
import type { Emulator } from '@linkkit/emulator'
import type { Command } from '../command.js'
import { CONTROL_TOKEN_ENV } from '../control-client.js'
import { loadEmulatorConfig } from '../emulator-config.js'
import { CliError, ExitCode, UsageError } from '../errors.js'
import { type CliIo, Output } from '../io.js'
import { LOG_LEVEL_OPTION, logLevel } from '../log-level.js'
import { redactUrl } from '../redact.js'

const DEFAULT_MQTT_PORT = 1883
const DEFAULT_HTTP_PORT = 8080

export const emulatorCommand: Command = {
  name: 'emulator',
  summary: 'Start a local platform: MQTT broker, firmware server and control API',
  usage: 'linkkit emulator --config <devices.json> [options]',
  description: [
    'Starts the platform emulator with the products, devices and thing models of a JSON file, prints its',
    'MQTT and HTTP URLs and keeps running until Ctrl-C (SIGINT) or SIGTERM, then closes every connection',
    'and exits 0. The HTTP URL serves firmware and the control API used by `linkkit ota`. The file:',
    '  { "products": [{ "productKey": "a1LampDemo01", "thingModel": "./lamp.tsl.json" }],',
    '    "devices": [{ "productKey": "a1LampDemo01", "deviceName": "lamp-0001", "deviceSecret": "..." }],',
    '    "mqttPort": 1883, "httpPort": 8080, "firmwareBaseUrl": "http://127.0.0.1" }',
    'thingModel paths are relative to the file. Device secrets are never printed.',
    `The control API needs a token: a random one is printed at start unless ${CONTROL_TOKEN_ENV} or`,
    '--control-token sets one; `linkkit ota` reads it from the same variable.',
    'Firmware and config file URLs handed to devices start with --firmware-url (default: the HTTP URL;',
    'a default port is left out). The C SDK 3.x follows only URLs without a port, fetched on port 80:',
    'serve HTTP on port 80 (--http-port 80), or forward port 80 to the HTTP port and pass',
    '--firmware-url http://<host>. docs/emulator.md has the whole C SDK recipe.',
    'Scale-out: several emulators started with the same --redis URL (and --redis-prefix) serve one',
    'platform: devices, thing state, firmware, jobs and rollouts live in Redis, a device connected to',
    'one node answers requests made on any node, and every control API sees every device. Each node adds',
    'the devices of its --config file (the other nodes may list none). Redis then holds device secrets:',
    'give it a password (redis://:password@host:6379) and keep it off public networks.',
  ].join('\n'),
  options: {
    config: {
      type: 'string',
      value: 'path',
      description: 'products, devices and TSL of the platform',
      required: true,
    },
    redis: {
      type: 'string',
      value: 'url',
      description:
        'scale out: keep the platform in this Redis (redis://[:password@]host[:port][/db]), shared with other nodes',
      env: 'LINKKIT_REDIS_URL',
    },
    'redis-prefix': {
      type: 'string',
      value: 'name',
      description:
        'name of the platform in Redis; nodes with the same URL and prefix are one platform (default: linkkit-emulator)',
    },
    'redis-lease-ms': {
      type: 'string',
      value: 'ms',
      description:
        'with --redis: how long a node holds a rollout without renewing it before another node takes it over (default: 15000)',
    },
    'mqtt-port': {
      type: 'string',
      value: 'port',
      description: `MQTT port, 0 for a free one (default: the file's mqttPort, else ${DEFAULT_MQTT_PORT})`,
    },
    'http-port': {
      type: 'string',
      value: 'port',
      description: `HTTP port, 0 for a free one (default: the file's httpPort, else ${DEFAULT_HTTP_PORT})`,
    },
    host: {
      type: 'string',
      value: 'address',
      description: "address to bind (default: the file's host, else 127.0.0.1, loopback only)",
    },
    'control-token': {
      type: 'string',
      value: 'token',
      description:
        'token the control API requires (default: a random one, printed at start; prefer the environment variable)',
      env: CONTROL_TOKEN_ENV,
    },
    'allowed-firmware-dir': {
      type: 'string',
      value: 'dir',
      description: 'directory the control API may read firmware files from by path (default: none)',
    },
    'firmware-url': {
      type: 'string',
      value: 'url',
      description:
        "public base URL of firmware and config file URLs, e.g. http://127.0.0.1 when port 80 reaches the HTTP port (default: the file's firmwareBaseUrl, else the HTTP URL)",
    },
    'log-level': LOG_LEVEL_OPTION,
    json: {
      type: 'boolean',
      description: 'print JSON lines: {"event":"started","mqttUrl",…} then one per event',
    },
  },
  examples: ['linkkit emulator --config ./devices.json --mqtt-port 1883 --http-port 8080'],
  async run(options, io) {
    const out = new Output(io, options.flag('json'))
    const level = logLevel(options.required('log-level'))
    const ports = {
      mqtt: options.integer('mqtt-port', 0, 65_535),
      http: options.integer('http-port', 0, 65_535),
    }
    const redisUrl = options.string('redis')
    const redisPrefix = options.string('redis-prefix')
    const redisLeaseMs = options.integer('redis-lease-ms', 300, 2_147_483_647)
    if (redisLeaseMs !== undefined && redisUrl === undefined) {
      throw new UsageError('--redis-lease-ms needs --redis')
    }
    const configPath = resolve(io.cwd, options.required('config'))
    const config = await loadEmulatorConfig(configPath)
    const mqttPort = ports.mqtt ?? config.mqttPort ?? DEFAULT_MQTT_PORT
    const httpPort = ports.http ?? config.httpPort ?? DEFAULT_HTTP_PORT
    const host = options.string('host') ?? config.host ?? '127.0.0.1'
    const controlToken = options.string('control-token')
    const dir = options.string('allowed-firmware-dir')
    const allowedFirmwareDir = dir === undefined ? undefined : resolve(io.cwd, dir)
    const firmwareBaseUrl = options.string('firmware-url') ?? config.firmwareBaseUrl
    // Loaded here, not at the top, so `--help` does not pay for the broker.
    const { Emulator } = await import('@linkkit/emulator')
    let emu: Emulator
    try {
      emu = await Emulator.start({
        ...config,
        mqttPort,
        httpPort,
        host,
        firmwareBaseUrl,
        logger: level,
        controlToken,
        allowedFirmwareDir,
        ...(redisUrl === undefined ? {} : { redisUrl }),
        ...(redisPrefix === undefined ? {} : { redisPrefix }),
        ...(redisLeaseMs === undefined ? {} : { redisLeaseMs }),
      })
    } catch (error) {
      const { code, port } = error as { code?: string; port?: number }
      if (code === 'ERR_INVALID_OPTIONS') {
        // A refused option is a usage error; the firmware URL is named the way the user gave it.
        const { message, details } = error as { message: string; details?: { name?: unknown } }
        if (details?.name === 'redisUrl' || details?.name === 'redisPrefix') {
          throw new UsageError(
            message.replace(/^redisUrl/, '--redis').replace(/^redisPrefix/, '--redis-prefix'),
          )
        }
        if (details?.name !== 'firmwareBaseUrl') throw new UsageError(message)
        const source = options.has('firmware-url')
          ? '--firmware-url'
          : `--config ${configPath}: firmwareBaseUrl`
        throw new UsageError(message.replace(/^firmwareBaseUrl/, source))
      }
      if (code === 'EADDRINUSE') {
        throw new CliError(`port ${port} is in use: choose --mqtt-port / --http-port (0 picks a free port)`)
      }
      throw error
    }
    const devices = config.devices.map(({ productKey, deviceName }) => ({ productKey, deviceName }))
    // A token the operator chose is not echoed; a generated one is the only way to learn it.
    const generated = controlToken === undefined ? emu.controlToken : undefined
    out.data({
      event: 'started',
      mqttUrl: emu.mqttUrl,
      httpUrl: emu.httpUrl,
      firmwareBaseUrl: emu.firmwareBaseUrl,
      devices,
      ...(redisUrl === undefined ? {} : { redis: redactUrl(redisUrl), node: emu.node }),
      ...(generated === undefined ? {} : { controlToken: generated }),
    })
    out.text(
      `linkkit emulator is running\n  MQTT     ${emu.mqttUrl}\n  HTTP     ${emu.httpUrl}  (firmware, control API)`,
    )
    out.text(
      generated === undefined
        ? `  control  token as given (${CONTROL_TOKEN_ENV} or --control-token)`
        : `  control  token ${generated}  (for linkkit ota: export ${CONTROL_TOKEN_ENV}=${generated})`,
    )
    out.text(`  files    ${emu.firmwareBaseUrl}/ota/…  (the URLs devices download from)`)
    out.text(`  devices  ${summarize(devices.map((d) => `${d.productKey}/${d.deviceName}`))}`)
    if (redisUrl !== undefined) {
      out.text(
        `  redis    ${redactUrl(redisUrl)}  (platform ${redisPrefix ?? 'linkkit-emulator'}, this node ${emu.node})`,
      )
    }
    out.text('Press Ctrl-C to stop.')
    reportEvents(emu, out)
    await stopRequested(io)
    await emu.close()
    out.emit('emulator stopped', { event: 'stopped' })
    return ExitCode.ok
  },
}

function reportEvents(emu: Emulator, out: Output): void {
  emu.on('device:online', ({ productKey, deviceName }) =>
    out.emit(`${productKey}/${deviceName} online`, { event: 'device:online', productKey, deviceName }),
  )
  emu.on('device:offline', ({ productKey, deviceName }) =>
    out.emit(`${productKey}/${deviceName} offline`, { event: 'device:offline', productKey, deviceName }),
  )
  emu.on('connect:refused', ({ username, returnCode, reason }) =>
    out.emit(`connection of ${username ?? '?'} refused (${returnCode}: ${reason})`, {
      event: 'connect:refused',
      username,
      returnCode,
      reason,
    }),
  )
  emu.ota.on('ota:job', (job) =>
    out.emit(`job ${job.id} ${job.productKey}/${job.deviceName} ${job.version}: ${job.status}`, {
      event: 'ota:job',
      job,
    }),
  )
  emu.ota.on('ota:inform', ({ productKey, deviceName }, entry) => {
    if (!entry.valid) return
    out.emit(`${productKey}/${deviceName} runs ${entry.module} ${entry.version}`, {
      event: 'ota:inform',
      productKey,
      deviceName,
      module: entry.module,
      version: entry.version,
    })
  })
}

async function stopRequested(io: CliIo): Promise<void> {
  if (!io.signal.aborted) await once(io.signal, 'abort')
}

function summarize(names: string[]): string {
  if (names.length === 0) return '(none)'
  const shown = names.slice(0, 5).join(', ')
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown
}
