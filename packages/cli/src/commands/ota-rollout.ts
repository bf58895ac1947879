import { setTimeout as sleep } from 'node:timers/promises'
import type { OtaRollout } from '@linkkit/emulator'
import type { ParsedOptions } from '../args.js'
import type { Command } from '../command.js'
import type { ControlClient } from '../control-client.js'
import { CliError, ExitCode, UsageError } from '../errors.js'
import { Output } from '../io.js'
import { CONTROL_TOKEN_OPTION, controlClient, EMULATOR_OPTION, JSON_OPTION } from './ota-shared.js'

const POLL_MS = 250
const ACTIONS = ['resume', 'pause', 'cancel', 'watch'] as const

/** `rollout-1  running  20/50 done: 18 succeeded, 2 failed, 0 canceled; 4 under way, 26 queued`. */
export function rolloutLine(r: OtaRollout): string {
  const { total, queued, active, succeeded, failed, canceled } = r.counts
  const done = succeeded + failed + canceled
  const why = r.status === 'paused' && r.pausedReason !== undefined ? ` (${r.pausedReason})` : ''
  return `${r.id}  ${r.status}${why}  ${done}/${total} done: ${succeeded} succeeded, ${failed} failed, ${canceled} canceled; ${active} under way, ${queued} queued`
}

export const otaRollout: Command = {
  name: 'ota rollout',
  summary: 'Start a staged rollout to a share of a product, or resume, pause, cancel or watch one',
  usage:
    'linkkit ota rollout --emulator <url> --product <pk> --firmware <id> (--percent <n> | --devices <dn,…> | --tag <key[=value]>) [options]',
  description: [
    'Upgrades a share of a product: --percent (a stable share: 10 picks a subset of what 20 picks), a list',
    'of --devices, or the devices with a --tag. At most --max-concurrent upgrades run at once; when',
    '--pause-on-failure upgrades failed (a count, or a share of the targeted devices such as 5%) the rollout',
    'pauses: upgrades under way go on, no new one starts. The command prints progress live until the rollout',
    'completes (exit 0), pauses or is canceled (exit 1). --resume, --pause, --cancel and --watch act on an',
    'existing rollout by id (resume and watch keep following it). With --json it prints the rollout as one',
    'JSON line per change.',
  ].join('\n'),
  options: {
    emulator: EMULATOR_OPTION,
    'control-token': CONTROL_TOKEN_OPTION,
    product: { type: 'string', value: 'pk', description: 'product key of the devices' },
    firmware: { type: 'string', value: 'id', description: 'firmware id from `linkkit ota add`' },
    percent: { type: 'string', value: 'n', description: 'share of the product, above 0 and at most 100' },
    devices: { type: 'string', value: 'dn,…', description: 'these devices, comma-separated' },
    tag: { type: 'string', value: 'key[=value]', description: 'devices that reported this tag' },
    'max-concurrent': {
      type: 'string',
      value: 'n',
      description: 'upgrades under way at once',
      default: '10',
    },
    'pause-on-failure': {
      type: 'string',
      value: 'n|n%',
      description:
        'pause once this many upgrades failed, or this share of the targeted devices (default: never)',
    },
    'src-version': { type: 'string', value: 'v', description: 'push only to devices running this version' },
    'upgrade-timeout': {
      type: 'string',
      value: 'ms',
      description:
        'fail an upgrade when the device has not informed the new version this long after its first progress',
    },
    resume: { type: 'string', value: 'id', description: 'resume a paused rollout and follow it' },
    pause: { type: 'string', value: 'id', description: 'pause a running rollout' },
    cancel: { type: 'string', value: 'id', description: 'cancel a rollout and its upgrades under way' },
    watch: { type: 'string', value: 'id', description: 'follow a rollout' },
    'no-follow': { type: 'boolean', description: 'print the rollout once instead of following it' },
    json: { ...JSON_OPTION, description: 'print the rollout as JSON, one line per change' },
  },
  examples: [
    'linkkit ota rollout --emulator http://127.0.0.1:8080 --product a1LampDemo01 --firmware fw-1 --percent 10 --max-concurrent 50 --pause-on-failure 5%',
    'linkkit ota rollout --emulator http://127.0.0.1:8080 --resume rollout-1',
  ],
  async run(options, io) {
    const out = new Output(io, options.flag('json'))
    const client = controlClient(options, io)
    const given = ACTIONS.filter((a) => options.has(a))
    if (given.length > 1) throw new UsageError(`give one of --${ACTIONS.join(', --')}`)
    const [action] = given
    let rollout: OtaRollout
    if (action === undefined) rollout = await client.post<OtaRollout>('rollouts', startBody(options))
    else {
      const id = encodeURIComponent(options.required(action))
      rollout =
        action === 'watch'
          ? await client.get<OtaRollout>(`rollouts/${id}`)
          : await client.post<OtaRollout>(`rollouts/${id}/${action}`, {})
    }
    if (options.flag('no-follow') || action === 'pause' || action === 'cancel') {
      out.emit(rolloutLine(rollout), rollout)
      return ExitCode.ok
    }
    const last = await follow(client, rollout, out, io.signal)
    if (last.status === 'completed') return ExitCode.ok
    if (last.status === 'paused') {
      throw new CliError(`rollout ${last.id} paused: resume it with linkkit ota rollout --resume ${last.id}`)
    }
    throw new CliError(`rollout ${last.id} was canceled`)
  },
}

function startBody(options: ParsedOptions): Record<string, unknown> {
  const targets = ['percent', 'devices', 'tag'].filter((name) => options.has(name))
  if (targets.length !== 1) throw new UsageError('give one of --percent, --devices and --tag')
  const body: Record<string, unknown> = {
    productKey: options.required('product'),
    firmwareId: options.required('firmware'),
    maxConcurrent: options.integer('max-concurrent', 1, 1_000_000) ?? 10,
  }
  const percent = options.string('percent')
  if (percent !== undefined) {
    const value = Number(percent)
    if (percent.trim() === '' || !(value > 0 && value <= 100)) {
      throw new UsageError(`--percent must be a number above 0 and at most 100, got '${percent}'`)
    }
    body.percent = value
  }
  const devices = options.string('devices')
  if (devices !== undefined)
    body.deviceNames = devices
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
  const tag = options.string('tag')
  if (tag !== undefined) body.tag = tag
  const pause = options.string('pause-on-failure')
  if (pause !== undefined) {
    if (!/^\d+(\.\d+)?%$|^\d+$/.test(pause.trim())) {
      throw new UsageError(`--pause-on-failure takes a count or a share such as 5%, got '${pause}'`)
    }
    body.pauseOnFailure = pause.endsWith('%') ? pause.trim() : Number(pause)
  }
  const srcVersion = options.string('src-version')
  if (srcVersion !== undefined) body.srcVersion = srcVersion
  const timeoutMs = options.integer('upgrade-timeout', 1, 2_147_483_647)
  if (timeoutMs !== undefined) body.timeoutMs = timeoutMs
  return body
}

/** Prints a line (or a JSON document) whenever the rollout changes, until it no longer runs. */
async function follow(
  client: ControlClient,
  first: OtaRollout,
  out: Output,
  signal: AbortSignal,
): Promise<OtaRollout> {
  let rollout = first
  let last = ''
  for (;;) {
    const line = rolloutLine(rollout)
    if (line !== last) out.emit(line, rollout)
    last = line
    if (rollout.status !== 'running') return rollout
    await sleep(POLL_MS, undefined, { signal })
    rollout = await client.get<OtaRollout>(`rollouts/${encodeURIComponent(rollout.id)}`)
  }
}
