import { createHash, generateKeyPairSync, sign } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { isLinkkitError } from '@linkkit/core'
import { describe, expect, it } from 'vitest'
import { DigestWorker, runningDigestWorkers } from '../src/trust/digest-worker.js'
import { SignatureTap } from '../src/trust/signature-tap.js'
import { TrustKeys } from '../src/trust/trust-keys.js'
import type { FirmwareFile } from '../src/types.js'
import { image, noWorkerLeft, rejection } from './download-helpers.js'

/** Feeds `data` in chunks of the given sizes (cycled), awaiting each `update` as the download does. */
async function feed(hash: { update(chunk: Uint8Array): Promise<void> | undefined }, data: Uint8Array) {
  const sizes = [1, 7, 4096, 65_536, 100_003, 3]
  let waits = 0
  for (let offset = 0, i = 0; offset < data.length; i++) {
    const end = Math.min(data.length, offset + (sizes[i % sizes.length] as number))
    const wait = hash.update(data.subarray(offset, end))
    if (wait !== undefined) {
      waits += 1
      await wait
    }
    offset = end
  }
  return waits
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest()

describe('DigestWorker (a real worker thread)', () => {
  it('computes the same SHA-256 as node:crypto, across batches, waiting when the worker is behind', async () => {
    const data = image(3_000_000, 7)
    const worker = new DigestWorker({ batchBytes: 16_384, batches: 2 })
    const waits = await feed(worker, data)
    expect(waits).toBeGreaterThan(0)
    expect((await worker.digest()).equals(sha256(data))).toBe(true)
    await noWorkerLeft()
  })

  it('with the default batches, a multi-MiB image hashes right and the thread ends after digest()', async () => {
    const data = image(5_000_000, 8)
    const worker = new DigestWorker({ expectedBytes: data.length })
    expect(runningDigestWorkers()).toBe(1)
    await feed(worker, data)
    expect((await worker.digest()).equals(sha256(data))).toBe(true)
    await noWorkerLeft()
  })

  it('bytes that fit one batch are hashed on the calling thread: no worker is started', async () => {
    const data = image(10_000, 9)
    const worker = new DigestWorker({ batchBytes: 65_536 })
    await feed(worker, data)
    expect(runningDigestWorkers()).toBe(0)
    expect((await worker.digest()).equals(sha256(data))).toBe(true)
    expect((await new DigestWorker().digest()).equals(sha256(new Uint8Array(0)))).toBe(true)
  })

  it('a worker that dies fails the feed and the digest with ERR_DIGEST_WORKER, never hangs', async () => {
    // The thread throws as it starts (no such hash): the batches handed to it never come back.
    const worker = new DigestWorker({ algorithm: 'no-such-hash', batchBytes: 4096, batches: 2 })
    const error = await rejection(() => feed(worker, image(100_000, 10)))
    expect(isLinkkitError(error, 'ERR_DIGEST_WORKER')).toBe(true)
    expect((error as Error).message).toMatch(
      /worker thread computing the firmware's no-such-hash digest failed/,
    )
    expect(isLinkkitError(await rejection(() => worker.digest()), 'ERR_DIGEST_WORKER')).toBe(true)
    expect(() => worker.update(new Uint8Array(1))).toThrow(
      expect.objectContaining({ code: 'ERR_DIGEST_WORKER' }),
    )
    await noWorkerLeft()
  })

  it('a worker that dies after the last byte fails digest() with ERR_DIGEST_WORKER', async () => {
    const worker = new DigestWorker({
      algorithm: 'no-such-hash',
      expectedBytes: 1 << 21,
      batchBytes: 1 << 20,
    })
    expect(worker.update(image(1000, 11))).toBeUndefined()
    expect(isLinkkitError(await rejection(() => worker.digest()), 'ERR_DIGEST_WORKER')).toBe(true)
    await noWorkerLeft()
  })

  it('close() ends the thread, fails a wait in progress with ERR_CLOSED, and is idempotent', async () => {
    const worker = new DigestWorker({ algorithm: 'sha256', batchBytes: 4096, batches: 2, expectedBytes: 1e6 })
    // Fill both batches, then wait for one to come back; close before it does.
    expect(worker.update(new Uint8Array(8192))).toBeUndefined()
    const waiting = worker.update(new Uint8Array(4096))
    expect(waiting).toBeInstanceOf(Promise)
    worker.close()
    worker.close()
    expect(isLinkkitError(await rejection(() => waiting as Promise<void>), 'ERR_CLOSED')).toBe(true)
    expect(() => worker.update(new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
    await noWorkerLeft()
  })
})

describe('SignatureTap on an MD5 offer (SHA-256 on the worker)', () => {
  const data = image(2_500_000, 12)
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const file: FirmwareFile = {
    size: data.length,
    url: 'http://127.0.0.1/fw',
    signMethod: 'Md5',
    digest: createHash('md5').update(data).digest('hex'),
  }
  const key = { id: 'k1', algorithm: 'ed25519' as const, key: publicKey }
  const signed = { key, signature: sign(null, sha256(data), privateKey) }

  it('verifies a good signature over the bytes fed', async () => {
    const tap = new SignatureTap(file, signed)
    await feed(tap, data)
    await tap.verify(file.digest)
    await noWorkerLeft()
  })

  it('refuses a flipped byte of the image: ERR_SIGNATURE_INVALID (mismatch)', async () => {
    const tampered = Uint8Array.from(data)
    tampered[1_234_567] = (tampered[1_234_567] as number) ^ 1
    const tap = new SignatureTap(file, signed)
    await feed(tap, tampered)
    const error = await rejection(() => tap.verify(file.digest))
    expect(isLinkkitError(error, 'ERR_SIGNATURE_INVALID')).toBe(true)
    expect((error as { details?: { reason?: string } }).details?.reason).toBe('mismatch')
    await noWorkerLeft()
  })

  it('a failed worker fails verify with ERR_DIGEST_WORKER, not a signature error', async () => {
    const tap = new SignatureTap(file, signed, { algorithm: 'no-such-hash', batchBytes: 4096, batches: 2 })
    const error = await rejection(async () => {
      await feed(tap, data)
      await tap.verify(file.digest)
    })
    expect(isLinkkitError(error, 'ERR_DIGEST_WORKER')).toBe(true)
    await noWorkerLeft()
  })

  it('close() (an aborted download) ends the worker', async () => {
    const tap = new SignatureTap(file, signed)
    expect(runningDigestWorkers()).toBe(1)
    await tap.update(data.subarray(0, 100_000))
    tap.close()
    await noWorkerLeft()
  })

  it('with digestWorker: false the SHA-256 runs on the calling thread, no worker started', async () => {
    const tap = new SignatureTap(file, { ...signed, digestWorker: false })
    expect(runningDigestWorkers()).toBe(0)
    await feed(tap, data)
    expect(runningDigestWorkers()).toBe(0)
    await tap.verify(file.digest)
  })

  it('firmware.trust.digestWorker is a boolean, defaulting to true on a machine with 2 cores or more', () => {
    expect(new TrustKeys({ keys: { k1: publicKey }, digestWorker: false }).digestWorker).toBe(false)
    expect(new TrustKeys({ keys: { k1: publicKey } }).digestWorker).toBe(availableParallelism() > 1)
    expect(
      () => new TrustKeys({ keys: { k1: publicKey }, digestWorker: 'yes' as unknown as boolean }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }))
  })

  it('a SHA256 offer needs no worker: its verified digest is the signed message', async () => {
    const shaFile: FirmwareFile = { ...file, signMethod: 'SHA256', digest: sha256(data).toString('hex') }
    const tap = new SignatureTap(shaFile, signed)
    expect(tap.update(data)).toBeUndefined()
    expect(runningDigestWorkers()).toBe(0)
    await tap.verify(shaFile.digest)
  })
})
