import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Emulator, type Firmware } from '@linkkit/emulator'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from '../src/cli.js'
import { cli, eventually, memoryIo } from './cli-helpers.js'

const PK = 'a1TrustCli01'
const DN = 'trust-cli'
const DS = 'trust-cli-secret-0123456789'
const TOKEN = 'cli-trust-test-control-token'

let dir = ''
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'linkkit-cli-trust-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const start = () =>
  Emulator.start({ devices: [{ productKey: PK, deviceName: DN, deviceSecret: DS }], controlToken: TOKEN })

async function addFirmware(emu: Emulator, version: string, file: string, extra: string[]): Promise<Firmware> {
  const run = await cli(
    [
      'ota',
      'add',
      '--emulator',
      emu.httpUrl,
      '--product',
      PK,
      '--version',
      version,
      '--file',
      file,
      '--json',
      ...extra,
    ],
    { env: { LINKKIT_CONTROL_TOKEN: TOKEN } },
  )
  expect([run.code, run.stderr]).toEqual([0, ''])
  return JSON.parse(run.stdout) as Firmware
}

describe('linkkit keys generate', () => {
  it.each(['ed25519', 'ecdsa-p256'])(
    'writes a %s key pair: private 0600, public PEM; never overwrites',
    async (algorithm) => {
      const out = join(dir, 'k1')
      const run = await cli(['keys', 'generate', '--out', out, '--algorithm', algorithm])
      expect([run.code, run.stderr]).toEqual([0, ''])
      expect((await stat(`${out}.pem`)).mode & 0o777).toBe(0o600)
      const pub = createPublicKey(await readFile(`${out}.pub`, 'utf8'))
      expect(pub.asymmetricKeyType).toBe(algorithm === 'ed25519' ? 'ed25519' : 'ec')
      const again = await cli(['keys', 'generate', '--out', out])
      expect(again.code).toBe(1)
      expect(again.stderr).toMatch(/exists: choose another --out/)
    },
  )

  it('refuses an unknown algorithm (exit 2)', async () => {
    const run = await cli(['keys', 'generate', '--out', join(dir, 'x'), '--algorithm', 'rsa'])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/--algorithm must be ed25519 or ecdsa-p256/)
  })
})

describe('linkkit ota add --sign-key', () => {
  it('signs the image locally: the offer carries a signature that verifies over the SHA-256 digest', async () => {
    await using emu = await start()
    const file = join(dir, 'fw.bin')
    const image = randomBytes(50_000)
    await writeFile(file, image)
    await cli(['keys', 'generate', '--out', join(dir, 'k1'), '--algorithm', 'ecdsa-p256'])
    const fw = await addFirmware(emu, '2.0.0', file, [
      '--sign-key',
      join(dir, 'k1.pem'),
      '--key-id',
      'k1',
      '--security-version',
      '3',
    ])
    expect(fw.extData).toMatchObject({
      signatureAlgorithm: 'ecdsa-p256',
      signatureKeyId: 'k1',
      securityVersion: 3,
    })
    const digest = createHash('sha256').update(image).digest()
    // Signed without --sign-method: offered with the SHA-256 the signature covers.
    expect([fw.signMethod, fw.sign]).toEqual(['SHA256', digest.toString('hex')])
    const pub = createPublicKey(await readFile(join(dir, 'k1.pub'), 'utf8'))
    expect(verify('sha256', digest, pub, Buffer.from(String(fw.extData?.signature), 'base64'))).toBe(true)
  })

  it.each([
    [['--sign-key', 'k.pem'], /--sign-key and --key-id go together/],
    [['--security-version', '4294967296'], /--security-version must be an integer/],
    [['--security-version=-1'], /--security-version must be an integer/],
  ])('refuses %j with a usage error', async (extra, message) => {
    const run = await cli(
      [
        'ota',
        'add',
        '--emulator',
        'http://127.0.0.1:1',
        '--product',
        PK,
        '--version',
        '1',
        '--file',
        'x',
        ...extra,
      ],
      { env: { LINKKIT_CONTROL_TOKEN: TOKEN } },
    )
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(message)
  })
})

describe('linkkit device --trust', () => {
  it('installs an image signed by the trusted key and refuses an unsigned one (-3)', async () => {
    await using emu = await start()
    await cli(['keys', 'generate', '--out', join(dir, 'release'), '--algorithm', 'ed25519'])
    const ctrlC = new AbortController()
    const io = memoryIo({ signal: ctrlC.signal })
    const exited = runCli(
      [
        'device',
        ...['--product', PK, '--device', DN, '--secret', DS, '--broker', emu.mqttUrl],
        ...['--allow-http', '--json', '--trust', join(dir, 'release.pub')],
      ],
      io,
    )
    const events = () =>
      io.out
        .join('')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
    await eventually(() => events().some((e) => e.event === 'connected'), 'connected')

    const file = join(dir, 'fw.bin')
    await writeFile(file, randomBytes(40_000))
    const unsigned = await addFirmware(emu, '1.5.0', file, [])
    const refused = await emu.ota.push({ productKey: PK, deviceName: DN, firmware: unsigned })
    const failed = await emu.ota.waitForJob(refused.id, 'failed', 10_000)
    expect(failed.failure).toEqual({ step: -3, desc: 'firmware 1.5.0: not signed (no extData.signature)' })

    const signed = await addFirmware(emu, '2.0.0', file, [
      '--sign-key',
      join(dir, 'release.pem'),
      '--key-id',
      'release',
    ])
    const job = await emu.ota.push({ productKey: PK, deviceName: DN, firmware: signed })
    expect((await emu.ota.waitForJob(job.id, 'succeeded', 10_000)).status).toBe('succeeded')
    ctrlC.abort()
    expect(await exited).toBe(0)
  })

  it('refuses a private key given as --trust (exit 2)', async () => {
    await cli(['keys', 'generate', '--out', join(dir, 'k'), '--algorithm', 'ed25519'])
    const run = await cli([
      'device',
      ...['--product', PK, '--device', DN, '--secret', DS, '--broker', 'mqtt://127.0.0.1:1'],
      ...['--trust', join(dir, 'k.pem')],
    ])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/is not a PEM public key/)
  })
})
