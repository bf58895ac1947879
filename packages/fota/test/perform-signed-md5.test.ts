import { createHash, generateKeyPairSync, sign } from 'node:crypto'
import { createLogger, isLinkkitError } from '@linkkit/core'
import { describe, expect, it } from 'vitest'
import { performFota } from '../src/perform.js'
import { MemoryPersistence } from '../src/persistence/memory.js'
import { ProgressReporter } from '../src/progress.js'
import { runningDigestWorkers } from '../src/trust/digest-worker.js'
import { offerSignatures } from '../src/trust/offer-signature.js'
import { TrustKeys } from '../src/trust/trust-keys.js'
import type { FirmwareOffer } from '../src/types.js'
import { image, noWorkerLeft, rejection, serve } from './download-helpers.js'

// The whole download path of a signed MD5 offer, large enough that the image's SHA-256 runs on a
// real worker thread (more than one 1 MiB batch): accepted, refused, aborted.

const { privateKey, publicKey } = generateKeyPairSync('ed25519')
const keys = new TrustKeys({ keys: { k1: publicKey }, digestWorker: true })

function signedOffer(url: string, data: Uint8Array, signed: Uint8Array = data): FirmwareOffer {
  const digest = createHash('sha256').update(signed).digest()
  return {
    version: '2.0.0',
    size: data.length,
    url,
    signMethod: 'Md5',
    digest: createHash('md5').update(data).digest('hex'),
    extData: {
      signature: sign(null, digest, privateKey).toString('base64'),
      signatureAlgorithm: 'ed25519',
      signatureKeyId: 'k1',
    },
  }
}

function run(offer: FirmwareOffer, persistence: MemoryPersistence, signal?: AbortSignal) {
  const steps: Array<[number, string]> = []
  const done = performFota({
    offer,
    persistence,
    reporter: new ProgressReporter(async (step, desc) => {
      steps.push([step, desc])
    }),
    onProgress: () => {},
    tuning: { allowHttp: true, retry: { limit: 1, baseDelayMs: 5 }, ...(signal ? { signal } : {}) },
    logger: createLogger(undefined, 'test'),
    signatures: offerSignatures(offer, keys),
  })
  return { done, steps }
}

describe('performFota, signed MD5 offer (SHA-256 on a worker thread)', () => {
  it('accepts and commits a correctly signed image; the worker is gone afterwards', async () => {
    const data = image(3_500_000, 71)
    await using server = await serve(data)
    const persistence = new MemoryPersistence()
    const { done, steps } = run(signedOffer(server.file.url, data), persistence)
    const result = await done
    expect(result.bytes).toBe(data.length)
    expect(persistence.image?.version).toBe('2.0.0')
    expect(steps.at(-1)).toEqual([100, 'verified'])
    await noWorkerLeft()
  })

  it("another image's signature: -3, ERR_SIGNATURE_INVALID, nothing committed, the worker gone", async () => {
    const data = image(3_500_000, 72)
    await using server = await serve(data)
    const persistence = new MemoryPersistence()
    const { done, steps } = run(signedOffer(server.file.url, data, image(3_500_000, 73)), persistence)
    const error = await rejection(() => done)
    expect(isLinkkitError(error, 'ERR_SIGNATURE_INVALID')).toBe(true)
    expect(steps.at(-1)?.[0]).toBe(-3)
    expect(persistence.image).toBeUndefined()
    await noWorkerLeft()
  })

  it('an abort mid-download ends the worker: ERR_ABORTED, nothing committed', async () => {
    const data = image(6_000_000, 74)
    await using server = await serve(data)
    server.fileFaults.throttle(1024 * 1024)
    const persistence = new MemoryPersistence()
    const controller = new AbortController()
    const { done } = run(signedOffer(server.file.url, data), persistence, controller.signal)
    while (server.fileStats().requests === 0 || runningDigestWorkers() === 0) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    controller.abort()
    const error = await rejection(() => done)
    expect(isLinkkitError(error, 'ERR_ABORTED')).toBe(true)
    expect(persistence.image).toBeUndefined()
    await noWorkerLeft()
  })
})
