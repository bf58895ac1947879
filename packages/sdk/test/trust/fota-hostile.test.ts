import { createHash, sign } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { Emulator } from '@linkkit/emulator'
import { describe, expect, it } from 'vitest'
import {
  type DigestMethod,
  FilePersistence,
  type FirmwareOffer,
  type FirmwarePersistence,
  FlashSimPersistence,
  isLinkkitError,
  type LinkkitError,
} from '../../src/index.js'
import { device, image, keyPair, open, progressOf, tempDir, waitFor } from './trust-helpers.js'

const CHUNK = 64 * 1024
const good = image(5 * CHUNK, 30)
const evil = image(5 * CHUNK, 31)
/** What the hostile server serves: the signed image for the first range, its own bytes after it. */
const served = Buffer.concat([good.subarray(0, CHUNK), evil.subarray(CHUNK)])
const keys = keyPair('ecdsa-p256')

/**
 * A firmware server that answers the first range request with the signed image and every later
 * one with other bytes: after the signature was read from the offer and the first bytes passed.
 */
async function hostileServer(): Promise<{ url: string; ranges: string[] } & AsyncDisposable> {
  const ranges: string[] = []
  const server: Server = createServer((req, res) => {
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '')
    ranges.push(req.headers.range ?? '')
    const start = Number(range?.[1] ?? 0)
    const end = range?.[2] ? Number(range[2]) : served.length - 1
    const body = (ranges.length === 1 ? good : served).subarray(start, end + 1)
    res.writeHead(range === null ? 200 : 206, {
      'content-length': body.length,
      ...(range === null
        ? {}
        : { 'content-range': `bytes ${start}-${start + body.length - 1}/${served.length}` }),
    })
    res.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/fw.bin`,
    ranges,
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** An offer whose digest matches what the server sends (the attacker controls both), signed over the real image. */
function hostileOffer(url: string, signMethod: DigestMethod): FirmwareOffer {
  const digest = createHash(signMethod === 'Md5' ? 'md5' : 'sha256')
    .update(served)
    .digest('hex')
  const signature = sign('sha256', createHash('sha256').update(good).digest(), keys.privateKey).toString(
    'base64',
  )
  return {
    version: '9.9.9',
    size: served.length,
    url,
    signMethod,
    digest,
    extData: { signature, signatureAlgorithm: 'ecdsa-p256', signatureKeyId: 'k1' },
  }
}

interface Target {
  name: string
  make(dir: string): Promise<FirmwarePersistence & { boot(): Promise<{ version: string | undefined }> }>
  running(dir: string): Promise<Uint8Array | undefined>
}

const factory = image(100_000, 40)
const targets: Target[] = [
  {
    name: 'FilePersistence',
    async make(dir) {
      await writeFile(join(dir, 'app.bin'), factory)
      const adapter = new FilePersistence({ path: join(dir, 'app.bin') })
      await adapter.boot()
      return adapter
    },
    running: (dir) => readFile(join(dir, 'app.bin')),
  },
  {
    name: 'FlashSimPersistence',
    async make(dir) {
      const adapter = await FlashSimPersistence.provision({
        path: join(dir, 'flash.bin'),
        image: { version: '1.0.0', data: factory },
      })
      await adapter.boot()
      return adapter
    },
    async running(dir) {
      const sim = new FlashSimPersistence({ path: join(dir, 'flash.bin') })
      try {
        await sim.boot()
        return (await sim.readSlot((await sim.state()).active))?.bytes
      } finally {
        await sim.close()
      }
    },
  },
]

describe.each(targets)(
  'a hostile firmware server, into $name: a bad or partial image never becomes active',
  (target) => {
    it.each(['Md5', 'SHA256'] as const)(
      'bytes changed after the first range pass the digest (%s) but not the signature: -3, nothing committed or activated',
      async (signMethod) => {
        await using emu = await Emulator.start({ devices: [device] })
        await using tmp = await tempDir()
        await using server = await hostileServer()
        const persistence = await target.make(tmp.path)
        await using d = await open(emu, {
          version: '1.0.0',
          persistence,
          trust: { keys: { k1: keys.publicKey } },
        })
        const error = (await d.fota
          .download(hostileOffer(server.url, signMethod), { chunkSizeBytes: CHUNK })
          .catch((e: unknown) => e)) as LinkkitError
        expect(isLinkkitError(error, 'ERR_SIGNATURE_INVALID')).toBe(true)
        expect(error.details).toMatchObject({ reason: 'mismatch' })
        // The server was asked range by range, and changed its bytes after the first.
        expect(server.ranges.length).toBe(5)
        const report = await waitFor(
          () => progressOf(emu).find(([step]) => step !== undefined && step < 0),
          'step -3',
        )
        expect(report).toEqual([-3, 'the signature of the image does not verify with key k1'])
        // Nothing to activate, and the factory image still runs after a reboot.
        const activation = await d.fota.activate().catch((e: unknown) => e)
        expect(isLinkkitError(activation, 'ERR_PERSISTENCE')).toBe(true)
        await (persistence as Partial<AsyncDisposable>)[Symbol.asyncDispose]?.()
        expect(Buffer.compare(Buffer.from((await target.running(tmp.path)) ?? []), factory)).toBe(0)
      },
    )

    it('a signed image cut short and never finished is not activatable either', async () => {
      await using emu = await Emulator.start({ devices: [device] })
      await using tmp = await tempDir()
      await using server = await hostileServer()
      const persistence = await target.make(tmp.path)
      await using d = await open(emu, {
        version: '1.0.0',
        persistence,
        trust: { keys: { k1: keys.publicKey } },
      })
      const stop = new AbortController()
      d.on('fota:progress', (p) => {
        if (p.bytes >= 2 * CHUNK) stop.abort()
      })
      const error = await d.fota
        .download(hostileOffer(server.url, 'SHA256'), { chunkSizeBytes: CHUNK, signal: stop.signal })
        .catch((e: unknown) => e)
      expect(isLinkkitError(error, 'ERR_ABORTED')).toBe(true)
      const activation = await d.fota.activate().catch((e: unknown) => e)
      expect(isLinkkitError(activation, 'ERR_PERSISTENCE')).toBe(true)
      await (persistence as Partial<AsyncDisposable>)[Symbol.asyncDispose]?.()
      expect(Buffer.compare(Buffer.from((await target.running(tmp.path)) ?? []), factory)).toBe(0)
    })
  },
)
