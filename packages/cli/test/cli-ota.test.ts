import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Emulator, type Firmware, type OtaJob } from '@linkkit/emulator'
import { linkkit } from '@linkkit/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli } from './cli-helpers.js'

const PK = 'a1OtaCli001'
const DN = 'dev-1'
const DS = 'ota-cli-secret-0123456789'
const IMAGE = Buffer.from('firmware image bytes '.repeat(100))

let dir = ''
let file = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'linkkit-cli-ota-'))
  file = join(dir, 'fw.bin')
  await writeFile(file, IMAGE)
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const TOKEN = 'cli-ota-test-control-token'
const start = () =>
  Emulator.start({ devices: [{ productKey: PK, deviceName: DN, deviceSecret: DS }], controlToken: TOKEN })
/** Runs an `ota` command line with the emulator's control token in its environment. */
const ota = (argv: string[]) => cli(argv, { env: { LINKKIT_CONTROL_TOKEN: TOKEN } })

async function add(emu: Emulator, extra: string[] = []): Promise<Firmware> {
  const run = await ota([
    'ota',
    'add',
    '--emulator',
    emu.httpUrl,
    '--product',
    PK,
    '--version',
    '2.0.0',
    '--file',
    file,
    '--json',
    ...extra,
  ])
  expect([run.code, run.stderr]).toEqual([0, ''])
  return JSON.parse(run.stdout) as Firmware
}

async function push(emu: Emulator, firmwareId: string): Promise<OtaJob> {
  const run = await ota([
    'ota',
    'push',
    '--emulator',
    emu.httpUrl,
    '--product',
    PK,
    '--device',
    DN,
    '--firmware',
    firmwareId,
    '--json',
  ])
  expect([run.code, run.stderr]).toEqual([0, ''])
  return JSON.parse(run.stdout) as OtaJob
}

describe('linkkit ota', () => {
  it('adds a firmware file with its digest and prints it for people', async () => {
    await using emu = await start()
    const fw = await add(emu, ['--sign-method', 'sha256'])
    expect(fw).toMatchObject({
      productKey: PK,
      version: '2.0.0',
      module: 'default',
      signMethod: 'SHA256',
      name: 'fw.bin',
    })
    expect(fw.sign).toBe(createHash('sha256').update(IMAGE).digest('hex'))
    expect(emu.ota.firmware(fw.id)?.size).toBe(IMAGE.length)
    const text = await ota([
      'ota',
      'add',
      '--emulator',
      emu.httpUrl,
      '--product',
      PK,
      '--version',
      '2.0.1',
      '--file',
      file,
    ])
    expect(text.stdout).toMatch(
      /^added firmware fw-2: a1OtaCli001 2\.0\.1 \(module default\), 2100 bytes, Md5 [0-9a-f]{32}$/m,
    )
  })

  it('pushes to an offline device (pending), lists and shows jobs', async () => {
    await using emu = await start()
    const fw = await add(emu)
    const job = await push(emu, fw.id)
    expect(job).toMatchObject({ productKey: PK, deviceName: DN, firmwareId: fw.id, status: 'pending' })
    const list = await ota(['ota', 'status', '--emulator', emu.httpUrl, '--device', DN, '--json'])
    expect((JSON.parse(list.stdout) as { jobs: OtaJob[] }).jobs.map((j) => j.id)).toEqual([job.id])
    const one = await ota(['ota', 'status', '--emulator', emu.httpUrl, '--job', job.id])
    expect(one.stdout).toBe(`${job.id}  ${PK}/${DN}  default  2.0.0  pending\n`)
    const none = await ota(['ota', 'status', '--emulator', emu.httpUrl, '--product', 'a1Nothing00'])
    expect(none.stdout).toBe('no upgrade jobs\n')
  })

  it('fails with one line when the emulator refuses (unknown firmware)', async () => {
    await using emu = await start()
    const run = await ota([
      'ota',
      'push',
      '--emulator',
      emu.httpUrl,
      '--product',
      PK,
      '--device',
      DN,
      '--firmware',
      'fw-9',
    ])
    expect(run.code).toBe(1)
    expect(run.stderr).toBe(
      'linkkit ota push: the emulator refused: ERR_INVALID_ARGUMENT: no firmware fw-9 (HTTP 404)\n',
    )
  })

  it('--wait exits 1 when the job ends otherwise, or when the timeout passes', async () => {
    await using emu = await start()
    const job = await push(emu, (await add(emu)).id)
    const wait = ['ota', 'status', '--emulator', emu.httpUrl, '--device', DN, '--wait', 'succeeded']
    const late = await ota([...wait, '--timeout', '300'])
    expect([late.code, late.stderr]).toEqual([
      1,
      `linkkit ota status: job ${job.id} is still pending after 300 ms\n`,
    ])
    await using device = linkkit.open({
      productKey: PK,
      deviceName: DN,
      deviceSecret: DS,
      brokerUrl: emu.mqttUrl,
    })
    device.on('fota', () => void device.fota.reportProgress(-2, 'no room'))
    await device.connect()
    const failed = await ota([...wait, '--timeout', '5000'])
    expect(failed.code).toBe(1)
    expect(failed.stderr).toBe(`linkkit ota status: job ${job.id} ended failed, not succeeded\n`)
    expect(failed.stdout).toMatch(new RegExp(`^${job.id} .* failed  step -2: no room$`, 'm'))
    const ended = await ota([
      'ota',
      'status',
      '--emulator',
      emu.httpUrl,
      '--job',
      job.id,
      '--wait',
      'failed,canceled',
      '--json',
    ])
    expect(ended.code).toBe(0)
    expect(JSON.parse(ended.stdout)).toMatchObject({ id: job.id, status: 'failed' })
  })

  it('cancels a job with a reason, refuses to cancel it twice, and pushes with --upgrade-timeout', async () => {
    await using emu = await start()
    const fw = await add(emu)
    const target = ['--emulator', emu.httpUrl, '--product', PK, '--device', DN, '--firmware', fw.id]
    const pushed = await ota(['ota', 'push', ...target, '--upgrade-timeout', '60000', '--json'])
    const job = JSON.parse(pushed.stdout) as OtaJob
    expect(job).toMatchObject({ status: 'pending', timeoutMs: 60_000 })
    const cancel = ['ota', 'cancel', '--emulator', emu.httpUrl, '--job', job.id]
    const canceled = await ota([...cancel, '--reason', 'wrong package'])
    expect(canceled).toEqual({
      code: 0,
      stdout: `${job.id}  ${PK}/${DN}  default  2.0.0  canceled  cancel: wrong package\n`,
      stderr: '',
    })
    expect(emu.ota.job(job.id)).toMatchObject({
      status: 'canceled',
      endedBy: 'cancel',
      reason: 'wrong package',
    })
    const again = await ota(cancel)
    expect([again.code, again.stderr]).toEqual([
      1,
      `linkkit ota cancel: the emulator refused: ERR_OTA_STATE: job ${job.id} already ended canceled (HTTP 409)\n`,
    ])
    const unknown = await ota(['ota', 'cancel', '--emulator', emu.httpUrl, '--job', 'job-77'])
    expect([unknown.code, unknown.stderr]).toEqual([
      1,
      'linkkit ota cancel: the emulator refused: ERR_INVALID_ARGUMENT: no OTA job job-77 (HTTP 404)\n',
    ])
    const bad = await ota(['ota', 'push', ...target, '--upgrade-timeout', '0'])
    expect(bad.code).toBe(2)
    const next = await ota(['ota', 'push', ...target, '--json'])
    expect(JSON.parse(next.stdout)).toMatchObject({ status: 'pending', timeoutMs: 1_800_000 })
  })
})
