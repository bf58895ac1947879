import type { OtaJob } from '@linkkit/emulator'
import type { Command } from '../command.js'
import { ExitCode } from '../errors.js'
import { Output } from '../io.js'
import { CONTROL_TOKEN_OPTION, controlClient, EMULATOR_OPTION, JSON_OPTION, jobLine } from './ota-shared.js'

export const otaPush: Command = {
  name: 'ota push',
  summary: 'Push a firmware package to a device (creates an upgrade job)',
  usage: 'linkkit ota push --emulator <url> --product <pk> --device <dn> --firmware <id> [options]',
  description: [
    'Creates an upgrade job and sends the offer on /ota/device/upgrade when the device is online (else',
    'when it connects). An earlier job of the same module that has not started is replaced. Prints the job;',
    'follow it with `linkkit ota status --job <id>`, stop it with `linkkit ota cancel --job <id>`.',
  ].join('\n'),
  options: {
    emulator: EMULATOR_OPTION,
    'control-token': CONTROL_TOKEN_OPTION,
    product: { type: 'string', value: 'pk', description: 'product key of the device', required: true },
    device: { type: 'string', value: 'dn', description: 'device name', required: true },
    firmware: {
      type: 'string',
      value: 'id',
      description: 'firmware id from `linkkit ota add`',
      required: true,
    },
    'src-version': {
      type: 'string',
      value: 'v',
      description: 'push only once the device runs this version (for differential packages)',
    },
    'upgrade-timeout': {
      type: 'string',
      value: 'ms',
      description:
        'fail the job when the device has not informed the new version this long after its first progress',
      default: '1800000',
    },
    json: { ...JSON_OPTION, description: 'print the job as JSON' },
  },
  examples: [
    'linkkit ota push --emulator http://127.0.0.1:8080 --product a1LampDemo01 --device lamp-0001 --firmware fw-1',
  ],
  async run(options, io) {
    const out = new Output(io, options.flag('json'))
    const client = controlClient(options, io)
    const srcVersion = options.string('src-version')
    const timeoutMs = options.integer('upgrade-timeout', 1, 2_147_483_647)
    const job = await client.post<OtaJob>('push', {
      productKey: options.required('product'),
      deviceName: options.required('device'),
      firmwareId: options.required('firmware'),
      ...(srcVersion === undefined ? {} : { srcVersion }),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    })
    out.data(job)
    out.text(jobLine(job))
    if (job.status === 'pending')
      out.text('the device is offline or not on --src-version yet: it gets the offer later')
    return ExitCode.ok
  },
}
