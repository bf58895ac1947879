import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Emulator } from '@linkkit/emulator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli.js'
import { cli, eventually, memoryIo } from '../cli-helpers.js'

/**
 * Finding 3 of issue 10, from the CLI's side: `linkkit emulator` prints the control token it
 * generated (never one it was given), and `linkkit ota` sends it from LINKKIT_CONTROL_TOKEN or
 * `--control-token`, never echoing it.
 */
const PK = 'a1TokenCli01'
const DEVICE = { productKey: PK, deviceName: 'dev-1', deviceSecret: 'token-cli-device-secret-000001' }

let dir = ''
let config = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'linkkit-cli-token-'))
  config = join(dir, 'devices.json')
  await writeFile(config, JSON.stringify({ devices: [DEVICE] }))
  await mkdir(join(dir, 'firmware'))
  await writeFile(join(dir, 'firmware', 'fw.bin'), Buffer.alloc(100, 1))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Runs `linkkit emulator` in-process until the returned stop() (Ctrl-C). */
async function emulatorCli(args: string[], env: Record<string, string> = {}) {
  const stop = new AbortController()
  const io = memoryIo({ signal: stop.signal, env })
  const exited = runCli(['emulator', '--config', config, '--mqtt-port', '0', '--http-port', '0', ...args], io)
  const output = () => io.out.join('')
  await eventually(() => output().includes('Ctrl-C') || output().includes('"started"'), 'emulator start')
  return {
    output,
    stop: async () => {
      stop.abort()
      return exited
    },
  }
}

describe('attack: the control API through the CLI (issue 10, finding 3)', () => {
  it('linkkit ota without the token fails with one line that says where to put it', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const status = ['ota', 'status', '--emulator', emu.httpUrl, '--product', PK]
    const without = await cli(status)
    expect([without.code, without.stderr]).toEqual([
      1,
      `linkkit ota status: the emulator at ${emu.httpUrl} wants its control token: give the one \`linkkit emulator\` printed in LINKKIT_CONTROL_TOKEN or --control-token\n`,
    ])
    const wrongToken = 'not-the-token-at-all-0000'
    const wrong = await cli([...status, '--control-token', wrongToken])
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toContain('(the one given is wrong)')
    expect(wrong.stderr).not.toContain(wrongToken)

    const token = emu.controlToken ?? ''
    const byEnv = await cli(status, { env: { LINKKIT_CONTROL_TOKEN: token } })
    expect([byEnv.code, byEnv.stdout, byEnv.stderr]).toEqual([0, 'no upgrade jobs\n', ''])
    const byFlag = await cli([...status, '--control-token', token])
    expect([byFlag.code, byFlag.stderr]).toEqual([0, ''])
  })

  it('linkkit emulator prints the token it generated, and that token opens the control API', async () => {
    const run = await emulatorCli(['--json'])
    const started = JSON.parse(run.output().split('\n')[0] ?? '') as { httpUrl: string; controlToken: string }
    expect(started.controlToken).toMatch(/^[A-Za-z0-9_-]{32}$/)
    const info = (token?: string) =>
      fetch(`${started.httpUrl}/control/info`, token ? { headers: { authorization: `Bearer ${token}` } } : {})
    expect((await info()).status).toBe(401)
    expect((await info(started.controlToken)).status).toBe(200)
    expect(await run.stop()).toBe(0)

    const text = await emulatorCli([])
    expect(text.output()).toMatch(
      /^ {2}control +token ([A-Za-z0-9_-]{32}) +\(for linkkit ota: export LINKKIT_CONTROL_TOKEN=\1\)$/m,
    )
    expect(await text.stop()).toBe(0)
  })

  it('linkkit emulator takes a token from LINKKIT_CONTROL_TOKEN and does not print it', async () => {
    const token = 'operator-token-from-the-env-01'
    const run = await emulatorCli(['--json'], { LINKKIT_CONTROL_TOKEN: token })
    const started = JSON.parse(run.output().split('\n')[0] ?? '') as Record<string, unknown>
    expect(started).not.toHaveProperty('controlToken')
    const info = await fetch(`${started.httpUrl}/control/info`, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(info.status).toBe(200)
    expect((await fetch(`${started.httpUrl}/control/info`)).status).toBe(401)
    expect(await run.stop()).toBe(0)
    expect(run.output()).not.toContain(token)
  })

  it('--allowed-firmware-dir opens one directory to POST /control/firmware {path}, nothing else', async () => {
    const run = await emulatorCli(['--json', '--allowed-firmware-dir', join(dir, 'firmware')])
    const { httpUrl, controlToken } = JSON.parse(run.output().split('\n')[0] ?? '') as Record<string, string>
    const byPath = (path: string) =>
      fetch(`${httpUrl}/control/firmware`, {
        method: 'POST',
        headers: { authorization: `Bearer ${controlToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ productKey: PK, version: '1.0.1', path }),
      })
    expect((await byPath(join(dir, 'firmware', 'fw.bin'))).status).toBe(201)
    expect((await byPath(config)).status).toBe(403)
    expect(await run.stop()).toBe(0)
  })
})
