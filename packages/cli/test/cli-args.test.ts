import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli } from './cli-helpers.js'

const URL_ = 'http://127.0.0.1:9'
const DEVICE = ['device', '--product', 'a1Lamp', '--device', 'lamp', '--secret', 'hush-hush-1234', '--broker']

/** Each case: a command line and the one-line reason it must be refused with (exit 2). */
const BAD: Array<[string[], string]> = [
  [[], 'linkkit: missing command'],
  [['launch'], "linkkit: unknown command 'launch'"],
  [['--verbose'], 'linkkit: unknown option --verbose'],
  [['--verbose', 'emulator'], 'linkkit: unknown option --verbose'],
  [['-x'], 'linkkit: unknown option -x'],
  [['--log-level=debug', 'device'], 'linkkit: unknown option --log-level'],
  [['ota', '--verbose'], 'linkkit ota: unknown option --verbose'],
  [['ota'], 'linkkit ota: missing command: add|push|status'],
  [['ota', 'remove'], "linkkit ota: unknown command 'remove'"],
  [['emulator'], 'linkkit emulator: missing required option --config'],
  [
    ['emulator', '--config', 'x.json', '--mqtt-port', '70000'],
    "linkkit emulator: --mqtt-port must be an integer from 0 to 65535, got '70000'",
  ],
  [['emulator', '--config', 'x.json', '--colour'], 'linkkit emulator: unknown option --colour'],
  [
    ['emulator', '--config', 'x.json', '--log-level', 'loud'],
    "linkkit emulator: --log-level takes silent|fatal|error|warn|info|debug|trace, got 'loud'",
  ],
  [
    ['ota', 'add', '--emulator', URL_, '--product', 'p', '--version', '1'],
    'linkkit ota add: missing required option --file',
  ],
  [
    ['ota', 'add', '--emulator', 'ftp://x', '--product', 'p', '--version', '1', '--file', 'f'],
    "linkkit ota add: --emulator must be an http:// URL, got 'ftp://x'",
  ],
  [
    [
      'ota',
      'add',
      '--emulator',
      URL_,
      '--product',
      'p',
      '--version',
      '1',
      '--file',
      'f',
      '--sign-method',
      'crc',
    ],
    "linkkit ota add: --sign-method must be Md5 or SHA256, got 'crc'",
  ],
  [
    ['ota', 'push', '--emulator', URL_, '--product', 'p', '--device', 'd', '--firmware'],
    'linkkit ota push: option --firmware needs a value',
  ],
  [
    ['ota', 'push', '--emulator', URL_, '--product', 'p', '--device', 'd', '--firmware', 'fw-1', 'now'],
    "linkkit ota push: unexpected argument 'now'",
  ],
  [
    ['ota', 'status', '--emulator', URL_, '--wait', 'done'],
    "linkkit ota status: --wait takes pending|pushed|upgrading|failed|succeeded|canceled, got 'done'",
  ],
  [
    ['ota', 'status', '--emulator', URL_, '--timeout', '-5'],
    'linkkit ota status: option --timeout needs a value',
  ],
  [['ota', 'status', '--emulator', URL_, '--json=yes'], 'linkkit ota status: option --json takes no value'],
  [
    ['device', '--product', 'p', '--device', 'd', '--broker', 'mqtt://127.0.0.1:1'],
    'linkkit device: missing required option --secret (or LINKKIT_DEVICE_SECRET)',
  ],
  [
    [...DEVICE, 'http://127.0.0.1:1'],
    "linkkit device: --broker must be an mqtt://, mqtts://, ws:// or wss:// URL, got 'http://127.0.0.1:1'",
  ],
  [
    [...DEVICE, 'mqtt://127.0.0.1:1', '--persistence', 'disk'],
    "linkkit device: --persistence takes memory, file:<path> or flash:<path>, got 'disk'",
  ],
  [
    [...DEVICE, 'mqtt://127.0.0.1:1', '--interval-ms', '10'],
    "linkkit device: --interval-ms must be an integer from 100 to 86400000, got '10'",
  ],
]

describe('bad arguments', () => {
  for (const [argv, reason] of BAD) {
    it(`linkkit ${argv.join(' ')} → exit 2: ${reason}`, async () => {
      const { code, stdout, stderr } = await cli(argv)
      expect(code).toBe(2)
      expect(stdout).toBe('')
      const [first, ...rest] = stderr.split('\n')
      expect(rest).toEqual([''])
      expect(first?.startsWith(reason)).toBe(true)
      expect(first).toMatch(/\(see 'linkkit[a-z ]* --help'\)$/)
    })
  }

  it('never echoes the device secret, even in a refusal', async () => {
    const { code, stderr } = await cli([...DEVICE, 'mqtt://127.0.0.1:1', 'xhush-hush-1234x'])
    expect(code).toBe(2)
    expect(stderr).toBe("linkkit device: unexpected argument 'x<redacted>x' (see 'linkkit device --help')\n")
  })

  it('takes required values from their environment variables', async () => {
    const env = { LINKKIT_EMULATOR: URL_ }
    const { code, stderr } = await cli(['ota', 'status', '--job', 'job-1'], { env })
    expect(code).toBe(1)
    expect(stderr).toMatch(
      /^linkkit ota status: cannot reach the emulator at http:\/\/127\.0\.0\.1:9 \(.+\)\n$/,
    )
  })
})

describe('emulator config file', () => {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'linkkit-cli-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const cases: Array<[string, unknown, string]> = [
    ['not JSON', '{"devices": [', 'is not valid JSON'],
    ['an array', [], 'the file must be a JSON object'],
    ['an unknown field', { device: [] }, 'the file has an unknown field "device"'],
    [
      'a device without name',
      { devices: [{ productKey: 'p' }] },
      'devices[0].deviceName must be a non-empty string',
    ],
    ['a bad port', { mqttPort: 'x' }, 'mqttPort must be a port number from 0 to 65535'],
    [
      'a bad node type',
      { products: [{ productKey: 'p', nodeType: 'hub' }] },
      'products[0].nodeType must be "device" or "gateway"',
    ],
    [
      'a bad thing model',
      { products: [{ productKey: 'p', thingModel: 5 }] },
      'products[0].thingModel must be a TSL document',
    ],
  ]
  for (const [what, content, reason] of cases) {
    it(`refuses a config with ${what} (exit 2, naming the field)`, async () => {
      const path = join(dir, `${what.replaceAll(' ', '-')}.json`)
      await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content))
      const { code, stderr } = await cli([
        'emulator',
        '--config',
        path,
        '--mqtt-port',
        '0',
        '--http-port',
        '0',
      ])
      expect(code).toBe(2)
      expect(stderr).toContain(`linkkit emulator: --config ${path}`)
      expect(stderr).toContain(reason)
      expect(stderr.split('\n')).toHaveLength(2)
    })
  }

  it('refuses a missing config file', async () => {
    const { code, stderr } = await cli(['emulator', '--config', join(dir, 'none.json')])
    expect(code).toBe(2)
    expect(stderr).toContain('(ENOENT)')
  })
})
