import { createHash, generateKeyPairSync, sign } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLogger, isLinkkitError } from '@linkkit/core'
import { TLS_CERT } from '@linkkit/testing/tls'
import { describe, expect, it } from 'vitest'
import { downloadInto } from '../src/download/download-firmware.js'
import type { DownloadOptions } from '../src/download/index.js'
import { performFota } from '../src/perform.js'
import { FilePersistence } from '../src/persistence/file.js'
import { ProgressReporter } from '../src/progress.js'
import { DigestWorker, type DigestWorkerOptions, digestWorkerCounts } from '../src/trust/digest-worker.js'
import { offerSignatures } from '../src/trust/offer-signature.js'
import { SignatureTap } from '../src/trust/signature-tap.js'
import { TrustKeys } from '../src/trust/trust-keys.js'
import type { FirmwareFile, FirmwareOffer } from '../src/types.js'
import { image, noWorkerLeft, quick, rejection, serve } from './download-helpers.js'
import { httpsFirmware } from './https-firmware.js'

// A signed MD5 offer's SHA-256 runs on a worker that reads the download's own ring in place
// (trust/digest-worker.ts, download/body-ring.ts). These runs use real servers, a real worker
// thread and small rings, so that an image wraps the ring many times and each side can be the slow one.

const { privateKey, publicKey } = generateKeyPairSync('ed25519')
const key = { id: 'k1', algorithm: 'ed25519' as const, key: publicKey }
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest()
const md5 = (data: Uint8Array) => createHash('md5').update(data).digest('hex')
/** A ring of 256 KiB, a wake every 64 KiB: a 3 MB image wraps it a dozen times. */
const small: DigestWorkerOptions = { ringBytes: 256 * 1024, wakeBytes: 64 * 1024 }

interface Run {
  /** Options of the tap's worker (on top of `expectedBytes`). */
  worker?: DigestWorkerOptions
  download?: DownloadOptions
  /** The image the signature was made over (default: the served one). */
  signed?: Uint8Array
  /** The sink yields to the event loop (a timer turn) every this many chunks: a slow disk. */
  slowSinkEvery?: number
}

/** performFota's own order on the tap's ring: tap.update, then the sink; verify after the MD5 check. */
async function signedDownload(url: string, data: Uint8Array, run: Run = {}) {
  const file: FirmwareFile = { size: data.length, url, signMethod: 'Md5', digest: md5(data) }
  const tap = new SignatureTap(
    file,
    { key, signature: sign(null, sha256(run.signed ?? data), privateKey) },
    { expectedBytes: data.length, ...small, ...run.worker },
  )
  const stored = new Uint8Array(data.length)
  let chunks = 0
  try {
    expect(tap.ring).toBeDefined()
    const result = await downloadInto(
      file,
      async (chunk, at) => {
        await tap.update(chunk)
        chunks += 1
        if (run.slowSinkEvery !== undefined && chunks % run.slowSinkEvery === 0) {
          await new Promise((resolve) => setTimeout(resolve, 1))
        }
        stored.set(chunk, at)
      },
      { ...quick, ...run.download },
      tap.ring,
    )
    await tap.verify(result.digest)
    expect(Buffer.compare(stored, data)).toBe(0)
    return result
  } finally {
    tap.close()
  }
}

describe('a signed MD5 offer: the worker hashes the download ring in place', () => {
  it('an image that wraps the ring many times verifies, every byte hashed in place (no copy)', async () => {
    const data = image(3_000_000, 81)
    await using server = await serve(data)
    const before = digestWorkerCounts()
    await signedDownload(server.file.url, data)
    const after = digestWorkerCounts()
    expect(after.inPlaceBytes - before.inPlaceBytes).toBe(data.length)
    expect(after.copiedBytes - before.copiedBytes).toBe(0)
    await noWorkerLeft()
  })

  it('with a slow sink', async () => {
    const data = image(2_000_000, 82)
    await using server = await serve(data)
    await signedDownload(server.file.url, data, { slowSinkEvery: 4 })
    await noWorkerLeft()
  })

  it('with a slow worker: the ring waits for it (socket paused), and the digest is still right', async () => {
    const data = image(2_000_000, 83)
    await using server = await serve(data)
    const before = digestWorkerCounts()
    await signedDownload(server.file.url, data, { worker: { delayMs: 2 } })
    expect(digestWorkerCounts().ringWaits).toBeGreaterThan(before.ringWaits)
    await noWorkerLeft()
  })

  it('over TLS, with a slow worker (records decrypted after a pause still reach it in order)', async () => {
    const data = image(2_500_000, 84)
    await using server = await httpsFirmware(data)
    await signedDownload(server.source.url, data, {
      worker: { delayMs: 1 },
      download: { tls: { ca: TLS_CERT } },
    })
    await noWorkerLeft()
  })

  it('an attempt cut mid-body resumes with Range into the same ring; the whole image is hashed once', async () => {
    const data = image(3_000_000, 85)
    await using server = await serve(data)
    server.fileFaults.truncate(1_100_000).resetAfter(2_000_000)
    const result = await signedDownload(server.file.url, data, { worker: { delayMs: 1 } })
    expect(result.requests).toBeGreaterThanOrEqual(2)
    await noWorkerLeft()
  })

  it('in chunk mode (a ranged GET per chunk, each its own exchange on the shared ring)', async () => {
    const data = image(2_000_000, 86)
    await using server = await serve(data)
    const result = await signedDownload(server.file.url, data, { download: { chunkSizeBytes: 300_000 } })
    expect(result.requests).toBe(7)
    await noWorkerLeft()
  })

  it('a signature over the image with one byte flipped: ERR_SIGNATURE_INVALID', async () => {
    const data = image(3_000_000, 87)
    const tampered = Uint8Array.from(data)
    tampered[2_345_678] = (tampered[2_345_678] as number) ^ 0x10
    await using server = await serve(data)
    const error = await rejection(() => signedDownload(server.file.url, data, { signed: tampered }))
    expect(isLinkkitError(error, 'ERR_SIGNATURE_INVALID')).toBe(true)
    await noWorkerLeft()
  })

  it('a worker that dies mid-download fails it with ERR_DIGEST_WORKER, even while the ring waits for it', async () => {
    const data = image(3_000_000, 88)
    await using server = await serve(data)
    const error = await rejection(() =>
      signedDownload(server.file.url, data, { worker: { delayMs: 1, exitAfterBytes: 1_000_000 } }),
    )
    expect(isLinkkitError(error, 'ERR_DIGEST_WORKER')).toBe(true)
    expect((error as Error).message).toMatch(/exited with code 3/)
    await noWorkerLeft()
  })
})

describe('the ring and its worker, fed by hand', () => {
  it('bytes written while the ring is full (a TLS socket after pause) spill, and reach the worker in order', async () => {
    const worker = new DigestWorker({ expectedBytes: 1e7, ringBytes: 64 * 1024, batchBytes: 16 * 1024 })
    const ring = worker.ring
    if (ring === undefined) throw new Error('no ring')
    const data = image(1_000_000, 91)
    const before = digestWorkerCounts()
    for (let offset = 0; offset < data.length; ) {
      // Three socket reads at once: more than the ring's 64 KiB, so the rest waits in fresh buffers.
      for (let i = 0; i < 3 && offset < data.length; i++) {
        const end = Math.min(data.length, offset + 50_000)
        ring.write(data.subarray(offset, end))
        offset = end
      }
      // The loop lends everything, the ring's own bytes first, and hands each chunk to the worker.
      for (let chunk = ring.take(); chunk !== undefined; chunk = ring.take()) await worker.update(chunk)
    }
    expect((await worker.digest()).equals(sha256(data))).toBe(true)
    const after = digestWorkerCounts()
    expect(after.copiedBytes - before.copiedBytes).toBeGreaterThan(0)
    expect(after.inPlaceBytes - before.inPlaceBytes).toBeGreaterThan(0)
    expect(after.copiedBytes - before.copiedBytes + after.inPlaceBytes - before.inPlaceBytes).toBe(
      data.length,
    )
    await noWorkerLeft()
  })
})

describe('performFota, signed MD5 offer resumed from held bytes', () => {
  const keys = new TrustKeys({ keys: { k1: publicKey }, digestWorker: true })

  function offerFor(url: string, data: Uint8Array): FirmwareOffer {
    return {
      version: '3.0.0',
      size: data.length,
      url,
      signMethod: 'Md5',
      digest: md5(data),
      extData: {
        signature: sign(null, sha256(data), privateKey).toString('base64'),
        signatureAlgorithm: 'ed25519',
        signatureKeyId: 'k1',
      },
    }
  }

  function perform(offer: FirmwareOffer, persistence: FilePersistence) {
    const steps: Array<[number, string]> = []
    const done = performFota({
      offer,
      persistence,
      reporter: new ProgressReporter(async (step, desc) => {
        steps.push([step, desc])
      }),
      onProgress: () => {},
      tuning: { allowHttp: true, retry: { limit: 0, baseDelayMs: 5 } },
      logger: createLogger(undefined, 'test'),
      signatures: offerSignatures(offer, keys),
    })
    return { done, steps }
  }

  it('the held prefix is read back into the worker (copied), the rest hashed in the ring: verified', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'linkkit-digest-ring-'))
    try {
      const data = image(5_000_000, 90)
      await using server = await serve(data)
      const offer = offerFor(server.file.url, data)
      server.fileFaults.truncate(2_200_000)
      const first = perform(offer, new FilePersistence({ path: join(dir, 'fw.bin'), fsync: false }))
      const error = await rejection(() => first.done)
      expect(isLinkkitError(error, 'ERR_DOWNLOAD_FAILED')).toBe(true)
      const before = digestWorkerCounts()
      const second = perform(offer, new FilePersistence({ path: join(dir, 'fw.bin'), fsync: false }))
      const result = await second.done
      const after = digestWorkerCounts()
      expect(result.resumedBytes).toBeGreaterThan(0)
      expect(after.copiedBytes - before.copiedBytes).toBe(result.resumedBytes)
      expect(after.inPlaceBytes - before.inPlaceBytes).toBe(data.length - result.resumedBytes)
      expect(second.steps.at(-1)).toEqual([100, 'verified'])
      await noWorkerLeft()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
