import { setTimeout as sleep } from 'node:timers/promises'
import type { OtaJob } from '@linkkit/emulator'
import type { ParsedOptions } from '../args.js'
import type { Command } from '../command.js'
import type { ControlClient } from '../control-client.js'
import { CliError, ExitCode, UsageError } from '../errors.js'
import { Output } from '../io.js'
import { CONTROL_TOKEN_OPTION, controlClient, EMULATOR_OPTION, JSON_OPTION, jobLine } from './ota-shared.js'

const STATUSES = ['pending', 'pushed', 'upgrading', 'failed', 'succeeded', 'canceled'] as const
const FINAL = new Set(['failed', 'succeeded', 'canceled'])
const POLL_MS = 200

export const otaStatus: Command = {
  name: 'ota status',
  summary: 'Show upgrade jobs, or wait until one reaches a status',
  usage: 'linkkit ota status --emulator <url> [--product <pk>] [--device <dn>] [--job <id>] [options]',
  description: [
    'Lists the upgrade jobs (of a product or device), or shows one with --job. With --wait it follows the',
    'job (--job, else the newest matching one) until it reaches one of the given statuses and exits 0; it',
    'exits 1 when the job ends otherwise or --timeout passes. A job succeeds once the device informs the',
    `target version. Statuses: ${STATUSES.join(', ')}.`,
  ].join('\n'),
  options: {
    emulator: EMULATOR_OPTION,
    'control-token': CONTROL_TOKEN_OPTION,
    product: { type: 'string', value: 'pk', description: 'only jobs of this product' },
    device: { type: 'string', value: 'dn', description: 'only jobs of this device' },
    job: { type: 'string', value: 'id', description: 'one job, by id' },
    wait: {
      type: 'string',
      value: 'status[,status]',
      description: 'wait until the job has one of these statuses',
    },
    timeout: { type: 'string', value: 'ms', description: 'how long --wait waits', default: '30000' },
    json: { ...JSON_OPTION, description: 'print JSON: the job, or { jobs } for a list' },
  },
  examples: [
    'linkkit ota status --emulator http://127.0.0.1:8080 --device lamp-0001',
    'linkkit ota status --emulator http://127.0.0.1:8080 --job job-1 --wait succeeded --timeout 60000',
  ],
  async run(options, io) {
    const out = new Output(io, options.flag('json'))
    const wanted = parseWanted(options.string('wait'))
    const timeoutMs = options.integer('timeout', 1, 24 * 3600 * 1000) ?? 30_000
    const client = controlClient(options, io)
    if (wanted === undefined) {
      const jobId = options.string('job')
      if (jobId !== undefined) {
        const job = await client.get<OtaJob>(`jobs/${encodeURIComponent(jobId)}`)
        out.emit(jobLine(job), job)
        return ExitCode.ok
      }
      const { jobs } = await client.get<{ jobs: OtaJob[] }>(`jobs${filterQuery(options)}`)
      out.data({ jobs })
      for (const job of jobs) out.text(jobLine(job))
      if (jobs.length === 0) out.text('no upgrade jobs')
      return ExitCode.ok
    }
    const job = await waitFor(client, await jobToWatch(client, options), wanted, timeoutMs, out, io.signal)
    out.data(job)
    return ExitCode.ok
  },
}

function parseWanted(text: string | undefined): Set<string> | undefined {
  if (text === undefined) return undefined
  const wanted = text.split(',').map((s) => s.trim())
  const bad = wanted.find((s) => !(STATUSES as readonly string[]).includes(s))
  if (bad !== undefined) throw new UsageError(`--wait takes ${STATUSES.join('|')}, got '${bad}'`)
  return new Set(wanted)
}

function filterQuery(options: ParsedOptions): string {
  const query = new URLSearchParams()
  const productKey = options.string('product')
  const deviceName = options.string('device')
  if (productKey !== undefined) query.set('productKey', productKey)
  if (deviceName !== undefined) query.set('deviceName', deviceName)
  const text = query.toString()
  return text === '' ? '' : `?${text}`
}

async function jobToWatch(client: ControlClient, options: ParsedOptions): Promise<string> {
  const jobId = options.string('job')
  if (jobId !== undefined) return jobId
  const { jobs } = await client.get<{ jobs: OtaJob[] }>(`jobs${filterQuery(options)}`)
  const newest = jobs.reduce<OtaJob | undefined>(
    (a, b) => (a === undefined || b.createdAt >= a.createdAt ? b : a),
    undefined,
  )
  if (newest === undefined)
    throw new CliError('no upgrade job matches: push one first, or name it with --job')
  return newest.id
}

async function waitFor(
  client: ControlClient,
  jobId: string,
  wanted: ReadonlySet<string>,
  timeoutMs: number,
  out: Output,
  signal: AbortSignal,
): Promise<OtaJob> {
  const deadline = Date.now() + timeoutMs
  let last = ''
  for (;;) {
    const job = await client.get<OtaJob>(`jobs/${encodeURIComponent(jobId)}`)
    const line = jobLine(job)
    if (line !== last) out.text(line)
    last = line
    if (wanted.has(job.status)) return job
    if (FINAL.has(job.status))
      throw new CliError(`job ${job.id} ended ${job.status}, not ${[...wanted].join('|')}`)
    if (Date.now() >= deadline)
      throw new CliError(`job ${job.id} is still ${job.status} after ${timeoutMs} ms`)
    await sleep(POLL_MS, undefined, { signal })
  }
}
