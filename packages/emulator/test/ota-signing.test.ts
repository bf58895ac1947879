import { createHash, generateKeyPairSync, verify } from 'node:crypto'
import { LinkkitError } from '@linkkit/core'
import { describe, expect, it } from 'vitest'
import { Emulator } from '../src/index.js'
import { control, errorOf } from './control-helpers.js'
import { DEVICE, DN, PK } from './helpers.js'
import { device, image, nextJson, UPGRADE } from './ota-helpers.js'

const digestOf = (data: Uint8Array) => createHash('sha256').update(data).digest()

describe('emu.ota.addFirmware signs packages', () => {
  it.each(['ed25519', 'ecdsa-p256'] as const)(
    '%s: extData carries a signature over the SHA-256 digest, pushed as is',
    async (kind) => {
      const keys =
        kind === 'ed25519'
          ? generateKeyPairSync('ed25519')
          : generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      await using emu = await Emulator.start({ devices: [DEVICE] })
      const data = image(5000, 2)
      const fw = await emu.ota.addFirmware({
        productKey: PK,
        version: '2.0.0',
        data,
        extData: { _package_udi: 'batch-7', signature: 'stale' },
        signingKey: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        keyId: 'k1',
        securityVersion: 4,
      })
      expect(fw.extData).toMatchObject({
        _package_udi: 'batch-7',
        signatureAlgorithm: kind,
        signatureKeyId: 'k1',
        securityVersion: 4,
      })
      const signature = Buffer.from(String(fw.extData?.signature), 'base64')
      expect(verify(kind === 'ed25519' ? null : 'sha256', digestOf(data), keys.publicKey, signature)).toBe(
        true,
      )
      const c = await device(emu, { ss: true })
      const message = nextJson(c, UPGRADE)
      await emu.ota.push({ productKey: PK, deviceName: DN, firmware: fw })
      expect(((await message).data as Record<string, unknown>).extData).toEqual(fw.extData)
    },
  )

  it('a signed package is offered with its SHA-256 unless signMethod says otherwise; an unsigned one with its MD5', async () => {
    const keys = generateKeyPairSync('ed25519')
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const data = image(3000, 5)
    const signed = { productKey: PK, data, signingKey: keys.privateKey, keyId: 'k' }
    const fw = await emu.ota.addFirmware({ ...signed, version: '2.0.0' })
    expect([fw.signMethod, fw.sign]).toEqual(['SHA256', digestOf(data).toString('hex')])
    const md5 = await emu.ota.addFirmware({ ...signed, version: '2.0.1', signMethod: 'Md5' })
    expect([md5.signMethod, md5.sign]).toEqual(['Md5', createHash('md5').update(data).digest('hex')])
    const plain = await emu.ota.addFirmware({ productKey: PK, version: '2.0.2', data })
    expect(plain.signMethod).toBe('Md5')
  })

  it('a multi-file package gets one signature per file, by name', async () => {
    const keys = generateKeyPairSync('ed25519')
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const files = [
      { name: 'a.bin', data: image(100, 1) },
      { name: 'b.bin', data: image(200, 2) },
    ]
    const fw = await emu.ota.addFirmware({
      productKey: PK,
      version: '2.0.0',
      files,
      signingKey: keys.privateKey,
      keyId: 'k',
    })
    const signatures = fw.extData?.fileSignatures as Record<string, string>
    expect(fw.extData?.signature).toBeUndefined()
    for (const file of files) {
      expect(
        verify(null, digestOf(file.data), keys.publicKey, Buffer.from(signatures[file.name] ?? '', 'base64')),
      ).toBe(true)
    }
  })

  it.each<[string, Record<string, unknown>]>([
    ['a key id without a key', { keyId: 'k1' }],
    ['a key without a key id', { signingKey: generateKeyPairSync('ed25519').privateKey }],
    ['a public key', { signingKey: generateKeyPairSync('ed25519').publicKey, keyId: 'k' }],
    [
      'an RSA key',
      { signingKey: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey, keyId: 'k' },
    ],
    ['a key id with a space', { signingKey: generateKeyPairSync('ed25519').privateKey, keyId: 'a b' }],
    ['a negative security version', { securityVersion: -1 }],
    ['a fractional security version', { securityVersion: 1.5 }],
  ])('%s is ERR_INVALID_ARGUMENT and nothing is served', async (_label, options) => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const error = await emu.ota
      .addFirmware({ productKey: PK, version: '2.0.0', data: image(10, 1), ...options })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LinkkitError)
    expect((error as LinkkitError).code).toBe('ERR_INVALID_ARGUMENT')
    const next = await emu.ota.addFirmware({ productKey: PK, version: '2.0.0', data: image(10, 1) })
    expect(next.id).toBe('fw-1')
  })

  it('the control API takes extData and securityVersion, and refuses a bad one', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const dataBase64 = Buffer.from(image(10, 1)).toString('base64')
    const added = await control(emu, 'POST', 'firmware', {
      productKey: PK,
      version: '2',
      dataBase64,
      extData: { signature: 'c2ln', signatureKeyId: 'k1' },
      securityVersion: 2,
    })
    expect(added.status).toBe(201)
    expect(added.body.extData).toEqual({ signature: 'c2ln', signatureKeyId: 'k1', securityVersion: 2 })
    const bad = await control(emu, 'POST', 'firmware', {
      productKey: PK,
      version: '2',
      dataBase64,
      securityVersion: '2',
    })
    expect(bad.status).toBe(400)
    expect(errorOf(bad).code).toBe('ERR_INVALID_ARGUMENT')
  })
})
