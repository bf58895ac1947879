import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LinkkitError } from '@linkkit/core'
import type { FirmwareFileInfo } from '@linkkit/emulator'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isResumable } from '../../src/failure.js'
import { FotaClient } from '../../src/fota-client.js'
import { FilePersistence } from '../../src/persistence/file.js'
import { FlashSimPersistence } from '../../src/persistence/flash-sim.js'
import type { FirmwareImage, FirmwareOffer, FirmwarePersistence } from '../../src/types.js'
import { firmwareBytes, MiB, offerData } from '../helpers/firmware.js'
import { type Rig, startRig, steps, waitFor } from '../helpers/rig.js'

/*
 * Finding 6: interrupted is not corrupt. A download stopped by its AbortSignal, by close() or by a
 * network failure past the retry budget keeps the bytes so far (`stop({ ok: false, resumable:
 * true })`), and the next download of the same image fetches only the rest, counted here on the
 * loopback firmware server. A refused image (digest mismatch) is discarded.
 */
const size = MiB
const data = firmwareBytes(size, 601)
const fast = { retry: { limit: 2, baseDelayMs: 5, maxDelayMs: 10 } }

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'linkkit-interrupted-'))
})
afterEach(() => rm(dir, { recursive: true, force: true }))

interface Storage {
  persistence: FirmwarePersistence
  committed(): Promise<Uint8Array | undefined>
  /** Staging files left behind (FilePersistence) or the spare slot's state (FlashSim). */
  leftovers(): Promise<string[]>
  close(): Promise<void>
}

const storages: Array<[string, () => Promise<Storage>]> = [
  [
    'FilePersistence',
    async () => {
      const path = join(dir, 'ota.bin')
      const persistence = new FilePersistence({ path, writeBufferBytes: 64 * 1024 })
      return {
        persistence,
        committed: () =>
          readFile(path).then(
            (b) => new Uint8Array(b),
            () => undefined,
          ),
        leftovers: async () => (await readdir(dir)).filter((name) => name !== 'ota.bin'),
        close: () => persistence.close(),
      }
    },
  ],
  [
    'FlashSimPersistence',
    async () => {
      const persistence = await FlashSimPersistence.provision({
        path: join(dir, 'flash.bin'),
        slotSizeBytes: 2 * MiB,
        image: { version: '1.0.0', data: firmwareBytes(10_000, 602) },
      })
      return {
        persistence,
        committed: async () => (await persistence.readStaged())?.bytes,
        leftovers: async () => {
          const { slots, active } = await persistence.state()
          const spare = slots[active === 'A' ? 'B' : 'A']
          return spare.status === 'empty' ? [] : [`slot ${spare.status}`]
        },
        close: () => persistence.close(),
      }
    },
  ],
]

async function client(rig: Rig, persistence: FirmwarePersistence): Promise<FotaClient> {
  const fota = new FotaClient(rig.connection, {
    version: '1.0.0',
    persistence,
    allowHttp: true,
    download: fast,
  })
  await fota.start()
  return fota
}

async function offered(rig: Rig, fota: FotaClient, file: FirmwareFileInfo): Promise<FirmwareOffer> {
  const offers: FirmwareOffer[] = []
  const take = (offer: FirmwareOffer) => offers.push(offer)
  fota.on('fota', take)
  await rig.push(offerData(file, { signMethod: 'SHA256' }))
  const offer = await waitFor(() => offers[0], 3000, 'the offer')
  fota.off('fota', take)
  return offer
}

const imageOf = (offer: FirmwareOffer): FirmwareImage => ({
  version: offer.version,
  size: offer.size,
  signMethod: offer.signMethod,
  digest: offer.digest,
})

/** Downloads the same offer again with the faults gone; only the bytes not held may cross the wire. */
async function expectResumed(
  rig: Rig,
  fota: FotaClient,
  storage: Storage,
  file: FirmwareFileInfo,
  offer: FirmwareOffer,
) {
  const held = (await storage.persistence.resumeOffset?.(imageOf(offer))) ?? 0
  expect(held, 'bytes kept by the interrupted download').toBeGreaterThan(100_000)
  rig.files.faultsFor(file.id).clear()
  // The server notices the interrupted request's socket closing a moment after the client let go.
  await waitFor(() => rig.files.stats(file.id).sending === 0 || undefined, 3000, 'the first response to end')
  const before = rig.files.stats(file.id)
  const sentBefore = before.bytesSent
  const requestsBefore = before.requests
  const result = await fota.download(offer)
  const after = rig.files.stats(file.id)
  expect(result.resumedBytes).toBe(held)
  expect(after.bytesSent - sentBefore, 'bytes served for the second download').toBe(size - held)
  expect(result.bytesReceived).toBe(size - held)
  expect(after.requests - requestsBefore).toBe(1)
  expect(after.ranges.at(-1)).toBe(`bytes=${held}-`)
  expect(Buffer.from((await storage.committed()) ?? []).equals(data)).toBe(true)
}

describe.each(storages)('%s keeps the bytes of an interrupted download', (_, make) => {
  it('stopped by its AbortSignal: the next download fetches only the rest', async () => {
    await using rig = await startRig()
    const storage = await make()
    try {
      const file = rig.files.addFile({ data })
      rig.files.faultsFor(file.id).throttle(2 * MiB)
      await using fota = await client(rig, storage.persistence)
      const offer = await offered(rig, fota, file)
      const abort = new AbortController()
      fota.on('fota:progress', (p) => {
        if (p.bytes > 400_000) abort.abort()
      })
      const error = await fota.download(offer, { signal: abort.signal }).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'ERR_ABORTED' })
      fota.removeAllListeners('fota:progress')
      await expectResumed(rig, fota, storage, file, offer)
    } finally {
      await storage.close()
    }
  })

  it('stopped by close(): no failure is reported, and a new client resumes the job', async () => {
    await using rig = await startRig()
    const storage = await make()
    try {
      const file = rig.files.addFile({ data })
      rig.files.faultsFor(file.id).throttle(2 * MiB)
      const first = await client(rig, storage.persistence)
      const offer = await offered(rig, first, file)
      const running = first.download(offer).catch((e: unknown) => e)
      await new Promise<void>((resolve) =>
        first.on('fota:progress', (p) => {
          if (p.bytes > 400_000) resolve()
        }),
      )
      await first.close()
      expect(await running).toMatchObject({ code: 'ERR_CLOSED' })
      await expect(first.download(offer)).rejects.toMatchObject({ code: 'ERR_CLOSED' })
      expect(
        steps(rig.progress).filter((step) => Number(step) < 0),
        'failure steps',
      ).toEqual([])
      await using second = await client(rig, storage.persistence)
      await expectResumed(rig, second, storage, file, offer)
    } finally {
      await storage.close()
    }
  })

  it('stopped by a network failure past the retry budget (-2): the next download fetches only the rest', async () => {
    await using rig = await startRig()
    const storage = await make()
    try {
      const file = rig.files.addFile({ data })
      // Paced so the reset lands mid-body; from then on the server answers 503 longer than the
      // retry budget lasts (armed once the first response is under way, so it only hits the retries).
      const faults = rig.files
        .faultsFor(file.id)
        .throttle(4 * MiB)
        .resetAfter(500_000)
      await using fota = await client(rig, storage.persistence)
      fota.once('fota:progress', () => faults.status(503, 10))
      const offer = await offered(rig, fota, file)
      const error = await fota.download(offer).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'ERR_DOWNLOAD_FAILED' })
      await waitFor(() => steps(rig.progress).includes('-2'), 3000, 'step -2')
      await expectResumed(rig, fota, storage, file, offer)
    } finally {
      await storage.close()
    }
  })

  it('refused by a digest mismatch (-3): the bytes are discarded and the next download starts over', async () => {
    await using rig = await startRig()
    const storage = await make()
    try {
      const file = rig.files.addFile({ data })
      rig.files.faultsFor(file.id).corruptByte(300_000)
      await using fota = await client(rig, storage.persistence)
      const offer = await offered(rig, fota, file)
      const error = await fota.download(offer).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'ERR_DIGEST_MISMATCH' })
      expect(await storage.persistence.resumeOffset?.(imageOf(offer))).toBe(0)
      expect(await storage.leftovers()).toEqual([])
      rig.files.faultsFor(file.id).clear()
      const sentBefore = rig.files.stats(file.id).bytesSent
      const result = await fota.download(offer)
      expect(result.resumedBytes).toBe(0)
      expect(rig.files.stats(file.id).bytesSent - sentBefore).toBe(size)
      expect(Buffer.from((await storage.committed()) ?? []).equals(data)).toBe(true)
    } finally {
      await storage.close()
    }
  })
})

describe('who decides resumable', () => {
  it('interruptions keep the bytes; refusals and the adapter’s own failures discard them', () => {
    const resumable = (code: ConstructorParameters<typeof LinkkitError>[0]) =>
      isResumable(new LinkkitError(code))
    for (const code of [
      'ERR_ABORTED',
      'ERR_CLOSED',
      'ERR_DOWNLOAD_FAILED',
      'ERR_DOWNLOAD_TIMEOUT',
      'ERR_DOWNLOAD_HTTP_STATUS',
    ] as const) {
      expect(resumable(code), code).toBe(true)
    }
    for (const code of [
      'ERR_DIGEST_MISMATCH',
      'ERR_SIZE_MISMATCH',
      'ERR_PERSISTENCE',
      'ERR_PERSISTENCE_WRITE',
      'ERR_FLASH_POWER_CUT',
      'ERR_HTTP_NOT_ALLOWED',
      'ERR_INTERNAL',
    ] as const) {
      expect(resumable(code), code).toBe(false)
    }
  })
})
