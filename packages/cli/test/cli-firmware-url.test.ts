import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from '../src/cli.js'
import { cli, eventually, memoryIo } from './cli-helpers.js'

const PK = 'a1LampDemo01'
const devices = [{ productKey: PK, deviceName: 'lamp-0001', deviceSecret: 'firmware-url-secret' }]

let dir = ''
// The command imports the emulator lazily; loading it once here keeps that out of the tests' waits.
beforeAll(async () => {
  await import('@linkkit/emulator')
})
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'linkkit-firmware-url-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function configFile(extra: Record<string, unknown> = {}): Promise<string> {
  const path = join(dir, 'devices.json')
  await writeFile(path, JSON.stringify({ devices, ...extra }))
  return path
}

/**
 * Runs `linkkit emulator … --json` in-process until it printed its `started` line, adds a firmware
 * through the control API with `linkkit ota add`, then stops the emulator as Ctrl-C would.
 */
async function startedAndAdded(args: string[]): Promise<{ started: Record<string, unknown>; url: string }> {
  const stop = new AbortController()
  const io = memoryIo({ signal: stop.signal })
  const running = runCli(['emulator', '--mqtt-port', '0', '--http-port', '0', '--json', ...args], io)
  try {
    await eventually(() => io.out.join('').includes('"event":"started"'), 'the started line')
    const started = JSON.parse(io.out.join('').split('\n')[0] ?? '') as Record<string, unknown>
    const image = join(dir, 'fw.bin')
    await writeFile(image, 'new firmware')
    const added = await cli([
      'ota',
      'add',
      '--emulator',
      String(started.httpUrl),
      '--product',
      PK,
      '--version',
      '1.1.0',
      '--file',
      image,
      '--control-token',
      String(started.controlToken),
      '--json',
    ])
    expect([added.code, added.stderr]).toEqual([0, ''])
    return { started, url: (JSON.parse(added.stdout) as { url: string }).url }
  } finally {
    stop.abort()
    expect(await running).toBe(0)
  }
}

describe('linkkit emulator --firmware-url', () => {
  it('puts the given base URL, without its default port, into the firmware URLs', async () => {
    const config = await configFile()
    const { started, url } = await startedAndAdded([
      '--config',
      config,
      '--firmware-url',
      'http://fw.test:80/',
    ])
    expect(started).toMatchObject({ event: 'started', firmwareBaseUrl: 'http://fw.test' })
    expect(String(started.httpUrl)).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(url).toMatch(/^http:\/\/fw\.test\/ota\/[^/]+\/fw\.bin$/)
  })

  it("takes the config file's firmwareBaseUrl, which the option overrides", async () => {
    const config = await configFile({ firmwareBaseUrl: 'http://from-file.test/files' })
    const fromFile = await startedAndAdded(['--config', config])
    expect(fromFile.started.firmwareBaseUrl).toBe('http://from-file.test/files')
    expect(fromFile.url.startsWith('http://from-file.test/files/ota/')).toBe(true)
    const overridden = await startedAndAdded(['--config', config, '--firmware-url', 'http://flag.test'])
    expect(overridden.url.startsWith('http://flag.test/ota/')).toBe(true)
  })

  it('defaults to the HTTP URL and prints where files are served in text mode', async () => {
    const config = await configFile()
    const { started, url } = await startedAndAdded(['--config', config])
    expect(started.firmwareBaseUrl).toBe(started.httpUrl)
    expect(url.startsWith(`${String(started.httpUrl)}/ota/`)).toBe(true)

    const stop = new AbortController()
    const io = memoryIo({ signal: stop.signal })
    const running = runCli(
      [
        'emulator',
        '--config',
        config,
        '--mqtt-port',
        '0',
        '--http-port',
        '0',
        '--firmware-url',
        'http://fw.test',
      ],
      io,
    )
    await eventually(() => io.out.join('').includes('Press Ctrl-C'), 'the banner')
    stop.abort()
    expect(await running).toBe(0)
    expect(io.out.join('')).toMatch(/^ {2}files {4}http:\/\/fw\.test\/ota\/… /m)
  })

  it('refuses an unusable URL with exit 2, naming where it came from', async () => {
    const config = await configFile()
    const flag = await cli([
      'emulator',
      '--config',
      config,
      '--mqtt-port',
      '0',
      '--http-port',
      '0',
      '--firmware-url',
      'ftp://x',
    ])
    expect([flag.code, flag.stderr]).toEqual([
      2,
      "linkkit emulator: --firmware-url must be an http:// or https:// URL (see 'linkkit emulator --help')\n",
    ])
    const fileUrl = await configFile({ firmwareBaseUrl: 'http://u:p@fw.test' })
    const file = await cli(['emulator', '--config', fileUrl, '--mqtt-port', '0', '--http-port', '0'])
    expect(file.code).toBe(2)
    expect(file.stderr).toContain(`--config ${fileUrl}: firmwareBaseUrl must not carry credentials`)
    expect(file.stderr).not.toContain('u:p@')
    const notText = await configFile({ firmwareBaseUrl: 80 })
    const typed = await cli(['emulator', '--config', notText, '--mqtt-port', '0', '--http-port', '0'])
    expect(typed.code).toBe(2)
    expect(typed.stderr).toContain('firmwareBaseUrl must be a non-empty string')
  })
})
