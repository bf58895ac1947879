import { resolve } from 'node:path'
import type { ThingModel } from '@linkkit/sdk'
import type { Command } from '../command.js'
import { DeviceReport } from '../device/device-report.js'
import { ExitCode, reasonOf, UsageError } from '../errors.js'
import { Output } from '../io.js'
import { LOG_LEVEL_OPTION, logLevel } from '../log-level.js'

const PERSISTENCE_HELP =
  'memory (kept in RAM), file:<path> (verified image written to <path>, resumable), flash:<path> ' +
  '(simulated A/B NOR flash with 4 MiB slots in <path>: activate, reboot, confirm; created with a --version factory image when missing)'

const BROKER_PROTOCOLS = new Set(['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'tls:', 'ws:', 'wss:'])

export const deviceCommand: Command = {
  name: 'device',
  summary: 'Run a simulated device: properties, services and OTA from a TSL',
  usage: 'linkkit device --product <pk> --device <dn> --secret <ds> --broker <url> [options]',
  description: [
    'Connects a device, posts every property of the TSL every --interval-ms (values within their specs,',
    'or as the cloud last set them), answers each TSL service with output valid for it, and accepts',
    'firmware offers: the image is downloaded into --persistence with a progress bar, verified, and',
    'the device reboots into it and informs the new version. Runs until Ctrl-C. The secret is never printed.',
  ].join('\n'),
  options: {
    product: { type: 'string', value: 'pk', description: 'product key', required: true },
    device: { type: 'string', value: 'dn', description: 'device name', required: true },
    secret: {
      type: 'string',
      value: 'ds',
      description: 'device secret',
      required: true,
      env: 'LINKKIT_DEVICE_SECRET',
    },
    broker: {
      type: 'string',
      value: 'url',
      description: "MQTT broker URL, e.g. the emulator's",
      required: true,
    },
    tsl: {
      type: 'string',
      value: 'path',
      description: 'thing model (TSL JSON); without it nothing is posted',
    },
    version: {
      type: 'string',
      value: 'v',
      description: 'firmware version running at start',
      default: '1.0.0',
    },
    persistence: {
      type: 'string',
      value: 'kind',
      description: `where firmware goes: ${PERSISTENCE_HELP}`,
      default: 'memory',
    },
    'allow-http': {
      type: 'boolean',
      description: 'accept plain http:// firmware URLs (the emulator serves http)',
    },
    'interval-ms': {
      type: 'string',
      value: 'ms',
      description: 'time between property posts',
      default: '5000',
    },
    'log-level': LOG_LEVEL_OPTION,
    json: {
      type: 'boolean',
      description: 'print JSON lines: {"event":"connected",…}, "posted", "fota:progress", …',
    },
  },
  examples: [
    'linkkit device --product a1LampDemo01 --device lamp-0001 --secret $DS --broker mqtt://127.0.0.1:1883 \\',
    '  --tsl examples/lamp.tsl.json --persistence flash:./flash.bin --allow-http',
  ],
  async run(options, io) {
    const out = new Output(io, options.flag('json'))
    const brokerUrl = options.required('broker')
    if (!BROKER_PROTOCOLS.has(protocolOf(brokerUrl))) {
      throw new UsageError(`--broker must be an mqtt://, mqtts://, ws:// or wss:// URL, got '${brokerUrl}'`)
    }
    const config = {
      productKey: options.required('product'),
      deviceName: options.required('device'),
      deviceSecret: options.required('secret'),
      brokerUrl,
      version: options.required('version'),
      persistence: options.required('persistence'),
      allowHttp: options.flag('allow-http'),
      intervalMs: options.integer('interval-ms', 100, 24 * 3600 * 1000) ?? 5000,
      logLevel: logLevel(options.required('log-level')),
      tsl: options.string('tsl'),
    }
    // Loaded here, not at the top, so `--help` stays fast.
    const { firmwareSlot } = await import('../device/firmware-slot.js')
    const { runSimulatedDevice } = await import('../device/simulated-device.js')
    const slot = firmwareSlot(config.persistence, io.cwd)
    const thingModel =
      config.tsl === undefined ? undefined : await readThingModel(resolve(io.cwd, config.tsl))
    const report = new DeviceReport(out, io)
    report.starting(config)
    if (thingModel === undefined) out.text('no --tsl: the device posts no properties and offers no services')
    await runSimulatedDevice({ ...config, thingModel, slot }, report, io.signal)
    return ExitCode.ok
  },
}

function protocolOf(url: string): string {
  try {
    return new URL(url).protocol
  } catch {
    return ''
  }
}

async function readThingModel(path: string): Promise<ThingModel> {
  const { loadThingModel } = await import('@linkkit/sdk')
  try {
    return await loadThingModel(path)
  } catch (error) {
    throw new UsageError(`--tsl ${path}: ${reasonOf(error)}`)
  }
}
