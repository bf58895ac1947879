import { createHash, sign } from 'node:crypto'
import { Emulator } from '@linkkit/emulator'
import { SpyPersistence } from '@linkkit/testing/persistence'
import { describe, expect, it } from 'vitest'
import { isLinkkitError, type LinkkitError, MemoryPersistence } from '../../src/index.js'
import { device, image, keyPair, nextOffer, open, progressOf, ref } from './trust-helpers.js'

const data = image(300_000, 1)

function signatureOf(key: ReturnType<typeof keyPair>['privateKey'], bytes: Uint8Array): string {
  const digest = createHash('sha256').update(bytes).digest()
  return sign(key.asymmetricKeyType === 'ed25519' ? null : 'sha256', digest, key).toString('base64')
}

describe('signed firmware (firmware.trust)', () => {
  it.each(['ed25519', 'ecdsa-p256'] as const)(
    'an image signed with %s by a trusted key is accepted, with either digest method',
    async (kind) => {
      const keys = keyPair(kind)
      await using emu = await Emulator.start({ devices: [device] })
      for (const [i, signMethod] of (['Md5', 'SHA256'] as const).entries()) {
        const persistence = new MemoryPersistence()
        await using d = await open(emu, {
          version: '1.0.0',
          persistence,
          trust: { keys: { k1: keys.publicKey } },
        })
        const firmware = await emu.ota.addFirmware({
          ...ref,
          version: `2.0.${i}`,
          data,
          signMethod,
          signingKey: keys.privateKey,
          keyId: 'k1',
        })
        expect(firmware.extData).toMatchObject({ signatureAlgorithm: kind, signatureKeyId: 'k1' })
        const offered = nextOffer(d)
        const job = await emu.ota.push({ ...ref, firmware })
        const result = await d.fota.download(await offered)
        expect(result.bytes).toBe(data.length)
        expect(Buffer.compare(persistence.bytes() ?? Buffer.alloc(0), data)).toBe(0)
        await d.fota.reportVersion(`2.0.${i}`)
        expect((await emu.ota.waitForJob(job.id, 'succeeded')).status).toBe('succeeded')
      }
    },
  )

  it('keys given as PEM strings work the same', async () => {
    const keys = keyPair('ecdsa-p256')
    const pem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString()
    await using emu = await Emulator.start({ devices: [device] })
    const persistence = new MemoryPersistence()
    await using d = await open(emu, { version: '1.0.0', persistence, trust: { keys: { 'build-2026': pem } } })
    const firmware = await emu.ota.addFirmware({
      ...ref,
      version: '2.0.0',
      data,
      signingKey: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      keyId: 'build-2026',
    })
    const offered = nextOffer(d)
    await emu.ota.push({ ...ref, firmware })
    await expect(d.fota.download(await offered)).resolves.toMatchObject({ version: '2.0.0' })
  })

  it('several key ids: an image signed by any trusted one is accepted (rotation)', async () => {
    const old = keyPair('ed25519')
    const next = keyPair('ecdsa-p256')
    await using emu = await Emulator.start({ devices: [device] })
    await using d = await open(emu, {
      version: '1.0.0',
      persistence: new MemoryPersistence(),
      trust: { keys: { old: old.publicKey, next: next.publicKey } },
    })
    for (const [keyId, key] of [
      ['old', old.privateKey],
      ['next', next.privateKey],
    ] as const) {
      const firmware = await emu.ota.addFirmware({
        ...ref,
        version: `2.${keyId}`,
        data,
        signingKey: key,
        keyId,
      })
      const offered = nextOffer(d)
      const job = await emu.ota.push({ ...ref, firmware })
      await expect(d.fota.download(await offered)).resolves.toMatchObject({ version: `2.${keyId}` })
      await d.fota.reportVersion(`2.${keyId}`)
      await emu.ota.waitForJob(job.id, 'succeeded')
    }
  })
})

/** Pushes `extData` of the caller's making and downloads it on a device that trusts `keys`; returns what happened. */
async function refused(options: {
  extData?: Record<string, unknown>
  trusted: Record<string, ReturnType<typeof keyPair>['publicKey']>
  files?: Array<{ name: string; data: Uint8Array }>
  signingKey?: ReturnType<typeof keyPair>['privateKey']
  keyId?: string
  tamper?: (extData: Record<string, unknown>) => Record<string, unknown>
}) {
  await using emu = await Emulator.start({ devices: [device] })
  const memory = new MemoryPersistence()
  const spy = new SpyPersistence(memory)
  await using d = await open(emu, { version: '1.0.0', persistence: spy, trust: { keys: options.trusted } })
  const firmware = await emu.ota.addFirmware({
    ...ref,
    version: '6.6.6',
    ...(options.files === undefined ? { data } : { files: options.files }),
    signMethod: 'SHA256',
    ...(options.extData === undefined ? {} : { extData: options.extData }),
    ...(options.signingKey === undefined ? {} : { signingKey: options.signingKey, keyId: options.keyId }),
  })
  const offered = nextOffer(d)
  const job = await emu.ota.push({ ...ref, firmware })
  const offer = await offered
  if (options.tamper !== undefined) offer.extData = options.tamper({ ...offer.extData })
  const error = (await d.fota.download(offer).catch((e: unknown) => e)) as LinkkitError
  const failed = await emu.ota.waitForJob(job.id, 'failed')
  return {
    error,
    failure: failed.failure,
    progress: progressOf(emu),
    requests: firmware.files.map((f) => emu.ota.stats(firmware, f.name).requests),
    calls: spy.calls,
    held: memory.bytes(),
  }
}

describe('refused signatures: step -3 with the reason, nothing committed', () => {
  const keys = keyPair('ed25519')
  const other = keyPair('ed25519')

  it('an unsigned image with keys configured is refused before any byte: ERR_SIGNATURE_MISSING', async () => {
    const r = await refused({ trusted: { k1: keys.publicKey } })
    expect(isLinkkitError(r.error, 'ERR_SIGNATURE_MISSING')).toBe(true)
    expect(r.failure).toEqual({ step: -3, desc: 'firmware 6.6.6: not signed (no extData.signature)' })
    expect(r.progress).toEqual([[-3, 'firmware 6.6.6: not signed (no extData.signature)']])
    expect(r.requests).toEqual([0])
    expect(r.calls).toEqual([
      { op: 'stop', outcome: expect.objectContaining({ ok: false, resumable: false }) },
    ])
    expect(r.held).toBeUndefined()
  })

  it('a signature without a key id is refused: ERR_SIGNATURE_MISSING', async () => {
    const r = await refused({
      trusted: { k1: keys.publicKey },
      extData: { signature: signatureOf(keys.privateKey, data), signatureAlgorithm: 'ed25519' },
    })
    expect(isLinkkitError(r.error, 'ERR_SIGNATURE_MISSING')).toBe(true)
    expect(r.error.details).toMatchObject({ reason: 'no-key-id' })
    expect(r.failure?.step).toBe(-3)
    expect(r.requests).toEqual([0])
  })

  it('a flipped signature byte: the image is fetched, fails the check, is discarded (-3, ERR_SIGNATURE_INVALID)', async () => {
    const r = await refused({
      trusted: { k1: keys.publicKey },
      signingKey: keys.privateKey,
      keyId: 'k1',
      tamper: (extData) => {
        const bytes = Buffer.from(String(extData.signature), 'base64')
        bytes[10] = (bytes[10] ?? 0) ^ 0x01
        return { ...extData, signature: bytes.toString('base64') }
      },
    })
    expect(isLinkkitError(r.error, 'ERR_SIGNATURE_INVALID')).toBe(true)
    expect(r.error.details).toMatchObject({ reason: 'mismatch', keyId: 'k1' })
    expect(r.failure).toEqual({ step: -3, desc: 'the signature of the image does not verify with key k1' })
    expect(r.calls.at(-1)).toEqual({
      op: 'stop',
      outcome: expect.objectContaining({ ok: false, resumable: false }),
    })
    expect(r.calls.some((c) => c.op === 'stop' && c.outcome.ok)).toBe(false)
    expect(r.held).toBeUndefined()
  })

  it('the valid signature of another image is refused (-3)', async () => {
    const r = await refused({
      trusted: { k1: keys.publicKey },
      extData: {
        signature: signatureOf(keys.privateKey, image(300_000, 2)),
        signatureAlgorithm: 'ed25519',
        signatureKeyId: 'k1',
      },
    })
    expect(isLinkkitError(r.error, 'ERR_SIGNATURE_INVALID')).toBe(true)
    expect(r.error.details).toMatchObject({ reason: 'mismatch' })
    expect(r.failure?.step).toBe(-3)
    expect(r.held).toBeUndefined()
  })

  it('an unknown key id is refused before any byte (-3)', async () => {
    const r = await refused({ trusted: { k1: keys.publicKey }, signingKey: other.privateKey, keyId: 'k9' })
    expect(isLinkkitError(r.error, 'ERR_SIGNATURE_INVALID')).toBe(true)
    expect(r.error.details).toMatchObject({ reason: 'unknown-key' })
    expect(r.failure).toEqual({ step: -3, desc: 'firmware 6.6.6: signed by unknown key id "k9"' })
    expect(r.requests).toEqual([0])
  })

  it('a trusted key id with a signature by another key is refused (-3)', async () => {
    const r = await refused({ trusted: { k1: keys.publicKey }, signingKey: other.privateKey, keyId: 'k1' })
    expect(isLinkkitError(r.error, 'ERR_SIGNATURE_INVALID')).toBe(true)
    expect(r.failure?.step).toBe(-3)
    expect(r.held).toBeUndefined()
  })

  it.each([
    ['not the key’s algorithm', 'ecdsa-p256'],
    ['an unknown algorithm', 'rsa-pss'],
    ['a non-string algorithm', 7],
  ])('a wrong algorithm (%s) is refused before any byte (-3)', async (_label, algorithm) => {
    const r = await refused({
      trusted: { k1: keys.publicKey },
      signingKey: keys.privateKey,
      keyId: 'k1',
      tamper: (extData) => ({ ...extData, signatureAlgorithm: algorithm }),
    })
    expect(isLinkkitError(r.error, 'ERR_SIGNATURE_INVALID')).toBe(true)
    expect(r.error.details).toMatchObject({ reason: 'algorithm' })
    expect(r.failure?.step).toBe(-3)
    expect(r.requests).toEqual([0])
  })

  it.each([
    ['not base64', '!!!not-base64!!!'],
    ['too short', Buffer.alloc(10).toString('base64')],
    ['huge', 'A'.repeat(100_000)],
    ['a number', 12345],
  ])('a malformed signature (%s) is refused before any byte (-3)', async (_label, signature) => {
    const r = await refused({
      trusted: { k1: keys.publicKey },
      extData: { signature, signatureAlgorithm: 'ed25519', signatureKeyId: 'k1' },
    })
    expect(isLinkkitError(r.error, 'ERR_SIGNATURE_INVALID')).toBe(true)
    expect(r.error.details).toMatchObject({ reason: 'malformed' })
    expect(r.failure?.step).toBe(-3)
    expect(r.failure?.desc.length).toBeLessThanOrEqual(128)
    expect(r.requests).toEqual([0])
  })
})

describe('multi-file offers: every file is signed, in extData.fileSignatures by file name', () => {
  const keys = keyPair('ecdsa-p256')
  const files = [
    { name: 'app.bin', data: image(120_000, 3) },
    { name: 'res.pak', data: image(80_000, 4) },
  ]

  it('every file verifies: the offer is accepted', async () => {
    await using emu = await Emulator.start({ devices: [device] })
    const persistence = new MemoryPersistence()
    await using d = await open(emu, {
      version: '1.0.0',
      persistence,
      trust: { keys: { k1: keys.publicKey } },
    })
    const firmware = await emu.ota.addFirmware({
      ...ref,
      version: '3.0.0',
      files,
      signingKey: keys.privateKey,
      keyId: 'k1',
    })
    expect(Object.keys(firmware.extData?.fileSignatures as object)).toEqual(['app.bin', 'res.pak'])
    const offered = nextOffer(d)
    await emu.ota.push({ ...ref, firmware })
    const result = await d.fota.download(await offered)
    expect(result.files.map((f) => f.name)).toEqual(['app.bin', 'res.pak'])
  })

  it('signatures swapped between the files are refused (-3), and nothing is committed', async () => {
    const r = await refused({
      trusted: { k1: keys.publicKey },
      files,
      signingKey: keys.privateKey,
      keyId: 'k1',
      tamper: (extData) => {
        const s = extData.fileSignatures as Record<string, string>
        return { ...extData, fileSignatures: { 'app.bin': s['res.pak'], 'res.pak': s['app.bin'] } }
      },
    })
    expect(isLinkkitError(r.error, 'ERR_SIGNATURE_INVALID')).toBe(true)
    expect(r.error.details).toMatchObject({ reason: 'mismatch', file: 'app.bin' })
    expect(r.failure?.step).toBe(-3)
    expect(r.requests).toEqual([1, 0])
    expect(r.calls.some((c) => c.op === 'stop' && c.outcome.ok)).toBe(false)
  })

  it('a file left unsigned is refused before any byte (-3, ERR_SIGNATURE_MISSING)', async () => {
    const r = await refused({
      trusted: { k1: keys.publicKey },
      files,
      signingKey: keys.privateKey,
      keyId: 'k1',
      tamper: (extData) => {
        const s = extData.fileSignatures as Record<string, string>
        return { ...extData, fileSignatures: { 'app.bin': s['app.bin'] } }
      },
    })
    expect(isLinkkitError(r.error, 'ERR_SIGNATURE_MISSING')).toBe(true)
    expect(r.error.details).toMatchObject({ reason: 'file-unsigned' })
    expect(r.failure?.desc).toContain('res.pak')
    expect(r.requests).toEqual([0, 0])
  })

  it('a single-file signature on a multi-file offer is not enough (-3)', async () => {
    const r = await refused({
      trusted: { k1: keys.publicKey },
      files,
      signingKey: keys.privateKey,
      keyId: 'k1',
      tamper: (extData) => ({
        signature: (extData.fileSignatures as Record<string, string>)['app.bin'],
        signatureAlgorithm: 'ecdsa-p256',
        signatureKeyId: 'k1',
      }),
    })
    expect(isLinkkitError(r.error, 'ERR_SIGNATURE_MISSING')).toBe(true)
    expect(r.requests).toEqual([0, 0])
  })
})

describe('trust options are checked at open()', () => {
  it.each([
    ['a private key', () => ({ k1: keyPair('ed25519').privateKey })],
    ['a string that is no PEM', () => ({ k1: 'not a pem' })],
    ['an empty key set', () => ({})],
    ['a key id with spaces', () => ({ 'a b': keyPair('ed25519').publicKey })],
  ])('%s is ERR_INVALID_OPTIONS', async (_label, keys) => {
    await using emu = await Emulator.start({ devices: [device] })
    const error = await open(emu, {
      persistence: new MemoryPersistence(),
      trust: { keys: keys() as never },
    }).catch((e: unknown) => e)
    expect(isLinkkitError(error, 'ERR_INVALID_OPTIONS')).toBe(true)
  })
})
