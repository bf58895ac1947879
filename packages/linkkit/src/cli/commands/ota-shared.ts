import type { OtaJob } from '@linkkit/emulator'
import type { OptionSpec } from '../args.js'

export const EMULATOR_OPTION: OptionSpec = {
  type: 'string',
  value: 'url',
  description: 'HTTP URL of a running emulator, as `linkkit emulator` printed it',
  required: true,
  env: 'LINKKIT_EMULATOR',
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
