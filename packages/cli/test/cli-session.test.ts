import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CliProcess, LAMP_TSL } from './cli-helpers.js'

const PK = 'a1LampDemo01'
const DN = 'lamp-0001'
const DS = 'session-secret-8f1e2d3c4b5a'

let dir = ''
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'linkkit-session-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** A command line written as one string (no argument here contains a space). */
const argv = (line: string) => line.split(' ')
/** Starts `linkkit <line>` through the real launcher, in the test's directory. */
const spawnCli = (line: string, env?: Record<string, string>) => new CliProcess(argv(line), dir, env)
/** Runs a short `linkkit <line>` and resolves with its exit code and output. */
const run = (line: string, env?: Record<string, string>) => spawnCli(line, env).result()

describe('the linkkit command (child processes through bin/linkkit.mjs)', () => {
  it('answers --help, --version and refuses bad arguments with exit 2', async () => {
    const [help, version, bad] = await Promise.all([run('ota push --help'), run('--version'), run('ota psh')])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Usage: linkkit ota push --emulator <url>/)
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/)
    expect([bad.code, bad.stderr]).toEqual([
      2,
      "linkkit ota: unknown command 'psh' (see 'linkkit ota --help')\n",
    ])
  })

  it('runs a whole upgrade: emulator, ota add + push, a device on simulated flash, status --wait', async () => {
    const config = join(dir, 'devices.json')
    const devices = [{ productKey: PK, deviceName: DN, deviceSecret: DS }]
    await writeFile(config, JSON.stringify({ products: [{ productKey: PK, thingModel: LAMP_TSL }], devices }))
    await writeFile(join(dir, 'fw-1.1.0.bin'), randomBytes(300_000))
    const emulator = spawnCli(`emulator --config ${config} --mqtt-port 0 --http-port 0 --json`)
    const started = await emulator.event('started')
    const { mqttUrl, httpUrl, controlToken } = started as {
      mqttUrl: string
      httpUrl: string
      controlToken: string
    }
    const token = { LINKKIT_CONTROL_TOKEN: controlToken }
    expect(mqttUrl).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/)
    expect(httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)

    const flash = join(dir, 'flash.bin')
    const device = spawnCli(
      `device --product ${PK} --device ${DN} --secret ${DS} --broker ${mqttUrl} --tsl ${LAMP_TSL} ` +
        `--persistence flash:${flash} --allow-http --interval-ms 500 --json`,
    )
    const [connected, added] = await Promise.all([
      device.event('connected'),
      run(
        `ota add --emulator ${httpUrl} --product ${PK} --version 1.1.0 --file fw-1.1.0.bin --sign-method SHA256 --json`,
        token,
      ),
    ])
    expect(connected).toMatchObject({ version: '1.0.0', persistence: `flash:${flash}` })
    expect([added.code, added.stderr]).toEqual([0, ''])
    const firmware = JSON.parse(added.stdout) as { id: string; size: number }
    expect(firmware.size).toBe(300_000)

    const pushed = await run(
      `ota push --emulator ${httpUrl} --product ${PK} --device ${DN} --firmware ${firmware.id} --json`,
      token,
    )
    expect(pushed.code).toBe(0)
    const job = JSON.parse(pushed.stdout) as { id: string }
    const status = await run(
      `ota status --emulator ${httpUrl} --product ${PK} --device ${DN} --wait succeeded --timeout 20000 --json`,
      token,
    )
    expect([status.code, status.stderr]).toEqual([0, ''])
    expect(JSON.parse(status.stdout)).toMatchObject({ id: job.id, status: 'succeeded', version: '1.1.0' })

    await device.event('booted', (e) => String(e.note).includes('booted slot B (1.1.0), confirmed'))
    await device.event('connected', (e) => e.version === '1.1.0')
    const kinds = device.events.map((e) => e.event)
    expect(kinds).toEqual(
      expect.arrayContaining(['fota:offer', 'fota:progress', 'fota:downloaded', 'reboot']),
    )
    await emulator.event('ota:job', (e) => (e.job as { status: string }).status === 'succeeded')

    device.child.kill('SIGINT')
    expect(await device.exited).toBe(0)
    expect(device.events.at(-1)).toEqual({ event: 'closed' })
    emulator.child.kill('SIGTERM')
    expect(await emulator.exited).toBe(0)
    expect(emulator.events.at(-1)).toEqual({ event: 'stopped' })
    for (const p of [emulator, device]) expect(p.lines.join('\n') + p.stderr).not.toContain(DS)
  }, 40_000)
})
