import type { OtaJob } from '@linkkit/emulator'
import type { Command } from '../command.js'
import { ExitCode } from '../errors.js'
import { Output } from '../io.js'
import { CONTROL_TOKEN_OPTION, controlClient, EMULATOR_OPTION, JSON_OPTION, jobLine } from './ota-shared.js'

export const otaCancel: Command = {
  name: 'ota cancel',
  summary: 'Cancel an upgrade job that has not ended',
  usage: 'linkkit ota cancel --emulator <url> --job <id> [--reason <text>] [options]',
  description: [
    'Cancels the job as the console does: its status becomes canceled, with the reason. The device is',
    'not told (the protocol has no such message); its later progress and informs no longer count, and',
    'a new push to it is accepted at once. Exits 1 when the job has already ended.',
  ].join('\n'),
  options: {
    emulator: EMULATOR_OPTION,
    'control-token': CONTROL_TOKEN_OPTION,
    job: {
      type: 'string',
      value: 'id',
      description: 'the job, as `linkkit ota push` printed it',
      required: true,
    },
    reason: { type: 'string', value: 'text', description: 'why, kept on the job as its reason' },
    json: { ...JSON_OPTION, description: 'print the job as JSON' },
  },
  examples: ['linkkit ota cancel --emulator http://127.0.0.1:8080 --job job-1 --reason "wrong package"'],
  async run(options, io) {
    const out = new Output(io, options.flag('json'))
    const client = controlClient(options, io)
    const reason = options.string('reason')
    const path = `jobs/${encodeURIComponent(options.required('job'))}/cancel`
    const job = await client.post<OtaJob>(path, reason === undefined ? {} : { reason })
    out.emit(jobLine(job), job)
    return ExitCode.ok
  },
}
