import type { OtaJob } from '@linkkit/emulator'
import type { OptionSpec, ParsedOptions } from '../args.js'
import { CONTROL_TOKEN_ENV, ControlClient } from '../control-client.js'
import type { CliIo } from '../io.js'

export const EMULATOR_OPTION: OptionSpec = {
  type: 'string',
  value: 'url',
  description: 'HTTP URL of a running emulator, as `linkkit emulator` printed it',
  required: true,
  env: 'LINKKIT_EMULATOR',
}

export const CONTROL_TOKEN_OPTION: OptionSpec = {
  type: 'string',
  value: 'token',
  description: 'the control token `linkkit emulator` printed (prefer the environment variable)',
  env: CONTROL_TOKEN_ENV,
}

/** The control API client of an `ota` command, from its `--emulator` and `--control-token` options. */
export function controlClient(options: ParsedOptions, io: CliIo): ControlClient {
  return new ControlClient(options.required('emulator'), io.signal, options.string('control-token'))
}

export const JSON_OPTION: OptionSpec = {
  type: 'boolean',
  description: 'print JSON instead of text',
}

/**
 * One line per job: `job-1  a1Lamp/lamp-0001  default  1.1.0  upgrading  step 40`; a job that
 * ended without a device step says why: `job-2  …  failed  timeout: no version 1.1.0 informed …`.
 */
export function jobLine(job: OtaJob): string {
  const step = job.failure
    ? `step ${job.failure.step}${job.failure.desc ? `: ${job.failure.desc}` : ''}`
    : job.reason !== undefined
      ? `${job.endedBy ?? 'ended'}: ${job.reason}`
      : job.step === undefined
        ? ''
        : `step ${job.step}`
  return [job.id, `${job.productKey}/${job.deviceName}`, job.module, job.version, job.status, step]
    .join('  ')
    .trimEnd()
}
