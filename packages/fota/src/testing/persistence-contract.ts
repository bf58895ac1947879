/**
 * Test helpers: the `FirmwarePersistence` contract suite every adapter (and yours) can run under
 * vitest, and deterministic firmware fixtures.
 *
 * @packageDocumentation
 * @module @linkkit/fota/testing
 */
import { LinkkitError } from '@linkkit/core'
import { describe, expect, it } from 'vitest'
import { digestOf } from '../persistence/digest.js'
import {
  collect,
  download,
  expectBytes,
  failures,
  interrupted,
  type PersistenceContractOptions,
  type PersistenceHarness,
  refused,
  steps,
  writeFrom,
} from './contract-harness.js'
import { firstDifference, makeFirmware, makeOfferFiles, seededRandom } from './firmware-fixture.js'

export type { PersistenceContractOptions, PersistenceHarness } from './contract-harness.js'

export {
  firstDifference,
  type MakeFirmwareOptions,
  type MakeOfferFilesOptions,
  makeFirmware,
  makeOfferFiles,
  seededRandom,
} from './firmware-fixture.js'

/**
 * The behaviour every `FirmwarePersistence` must show, as a vitest suite: run it from a test
 * file with a factory that builds the adapter over fresh storage. The resume checks run when the
 * adapter has `resumeOffset` and the harness can `restart`.
 */
export function runPersistenceContract(
  name: string,
  factory: () => Promise<PersistenceHarness>,
  options: PersistenceContractOptions = {},
): void {
  const size = options.imageSizeBytes ?? 20_000
  const keeps = options.keepsCommittedOnFailure ?? true
  const resume = options.resume ?? false
  const multiFile = options.multiFile ?? false
  const v1 = makeFirmware({ size, seed: 11, version: '1.1.0', signMethod: 'Md5' })
  const v2 = makeFirmware({ size, seed: 22, version: '2.0.0' })

  async function withHarness(test: (harness: PersistenceHarness) => Promise<void>): Promise<void> {
    const harness = await factory()
    try {
      await test(harness)
    } finally {
      await harness.cleanup()
    }
  }

  describe(`FirmwarePersistence contract: ${name}`, () => {
    it('commits the bytes written in order, and they hash to the digest', () =>
      withHarness(async ({ adapter, readCommitted }) => {
        await download(adapter, v2.image, v2.data)
        const committed = await readCommitted()
        expectBytes(committed, v2.data)
        expect(digestOf(v2.image.signMethod, [committed ?? new Uint8Array()])).toBe(v2.image.digest)
      }))

    it("copies what it keeps: the caller reuses one buffer for every chunk, as linkkit's downloader does", () =>
      withHarness(async ({ adapter, readCommitted }) => {
        // One buffer, refilled for each write and scribbled over once the write settled: an
        // adapter that held on to the caller's chunk would commit the scribbles.
        const reused = new Uint8Array(4096)
        await adapter.start(v2.image, 0)
        for (let offset = 0; offset < v2.data.length; offset += reused.length) {
          const part = v2.data.subarray(offset, offset + reused.length)
          reused.set(part)
          await adapter.write(reused.subarray(0, part.length), offset)
          reused.fill(0xa5)
        }
        await adapter.stop({ ok: true })
        expectBytes(await readCommitted(), v2.data)
      }))

    it('accepts chunks of odd sizes and zero-length writes (the C SDK writes 0 bytes on a fetch timeout)', () =>
      withHarness(async ({ adapter, readCommitted }) => {
        const random = seededRandom(7)
        const sizes = [0, 1, 0, 3]
        for (let total = 4; total < size; ) {
          const next = random() < 0.2 ? 0 : 1 + Math.floor(random() * 5000)
          sizes.push(next)
          total += next
        }
        await adapter.start(v1.image, 0)
        const end = await writeFrom(adapter, v1.data, 0, sizes)
        await adapter.write(new Uint8Array(0), end)
        await adapter.stop({ ok: true })
        expectBytes(await readCommitted(), v1.data)
      }))

    it.each(failures)('commits nothing when the download fails (%s)', (_, failure) =>
      withHarness(async ({ adapter, readCommitted }) => {
        await adapter.start(v2.image, 0)
        await writeFrom(adapter, v2.data, 0, steps(size / 2, 1000))
        await adapter.stop(failure)
        expect(await readCommitted()).toBeUndefined()
      }),
    )

    it.each(failures)(
      `never exposes a failed download in place of the committed image${keeps ? ' (keeps it)' : ''} (%s)`,
      (_, failure) =>
        withHarness(async ({ adapter, readCommitted }) => {
          await download(adapter, v1.image, v1.data)
          await adapter.start(v2.image, 0)
          await writeFrom(adapter, v2.data, 0, steps(size - 1, 1000))
          await adapter.stop(failure)
          const committed = await readCommitted()
          if (keeps || committed !== undefined) expectBytes(committed, v1.data)
        }),
    )

    it.each(failures)(
      'completes a second download, of another image, after a failed one (%s)',
      (_, failure) =>
        withHarness(async ({ adapter, readCommitted }) => {
          await adapter.start(v1.image, 0)
          await writeFrom(adapter, v1.data, 0, steps(size / 3, 1000))
          await adapter.stop(failure)
          expect(await adapter.resumeOffset?.(v2.image)).toBe(resume ? 0 : undefined)
          await download(adapter, v2.image, v2.data)
          expectBytes(await readCommitted(), v2.data)
        }),
    )

    it('refuses a write that does not continue the bytes held', () =>
      withHarness(async ({ adapter }) => {
        await adapter.start(v2.image, 0)
        await adapter.write(v2.data.subarray(0, 100), 0)
        const skipped = Promise.resolve().then(() => adapter.write(v2.data.subarray(150, 200), 150))
        await expect(skipped).rejects.toMatchObject({ name: 'LinkkitError', code: 'ERR_PERSISTENCE_WRITE' })
        await adapter.stop(refused)
      }))

    it(`declares resume support consistently (resume: ${resume})`, () =>
      withHarness(async (harness) => {
        expect(harness.adapter.resumeOffset !== undefined, 'adapter has resumeOffset()').toBe(resume)
        if (resume) expect(harness.restart, 'harness has restart()').toBeTypeOf('function')
      }))

    describe(
      multiFile ? 'multi-file offers: every file under its own name' : 'multi-file offers: refused',
      () => {
        const third = Math.max(1, Math.floor(size / 3))
        const offer = makeOfferFiles({
          version: '3.0.0',
          files: [
            { name: 'app.bin', size: size - third, seed: 31 },
            { name: 'res.bin', size: third, seed: 32 },
          ],
        })
        const [app, res] = offer as [(typeof offer)[0], (typeof offer)[0]]

        if (!multiFile) {
          it('refuses a multi-file offer at its first start, before any byte, and keeps the committed image', () =>
            withHarness(async ({ adapter, readCommitted }) => {
              await download(adapter, v1.image, v1.data)
              const started = Promise.resolve().then(() => adapter.start(app.image, 0))
              await expect(started).rejects.toMatchObject({ name: 'LinkkitError', code: 'ERR_PERSISTENCE' })
              await adapter.stop({
                ...refused,
                error: new LinkkitError('ERR_PERSISTENCE', 'refused at start'),
              })
              // Refused before any byte, so even storage that stages over the committed image still holds it.
              expectBytes(await readCommitted(), v1.data)
            }))
          return
        }

        it('commits every file only once the last one is verified', () =>
          withHarness(async (harness) => {
            expect(harness.readCommittedFile, 'harness has readCommittedFile()').toBeTypeOf('function')
            const { adapter } = harness
            await download(adapter, app.image, app.data)
            expect(
              await harness.readCommittedFile!('app.bin'),
              'app.bin before res.bin is verified',
            ).toBeUndefined()
            await download(adapter, res.image, res.data)
            expectBytes(await harness.readCommittedFile!('app.bin'), app.data)
            expectBytes(await harness.readCommittedFile!('res.bin'), res.data)
          }))

        it.each(failures)('commits none of the offer when its last file fails (%s)', (_, failure) =>
          withHarness(async (harness) => {
            const { adapter } = harness
            await download(adapter, app.image, app.data)
            await adapter.start(res.image, 0)
            await writeFrom(adapter, res.data, 0, steps(Math.floor(res.data.length / 2), 1000))
            await adapter.stop(failure)
            expect(await harness.readCommittedFile!('app.bin')).toBeUndefined()
            expect(await harness.readCommittedFile!('res.bin')).toBeUndefined()
            // The offer downloaded again commits whole.
            await download(adapter, app.image, app.data)
            await download(adapter, res.image, res.data)
            expectBytes(await harness.readCommittedFile!('app.bin'), app.data)
            expectBytes(await harness.readCommittedFile!('res.bin'), res.data)
          }),
        )
      },
    )

    if (!resume) return

    describe('resume', () => {
      it('holds nothing for an image it never received, nor after a refused download', () =>
        withHarness(async (harness) => {
          const { adapter } = harness
          expect(await adapter.resumeOffset?.(v2.image)).toBe(0)
          await adapter.start(v2.image, 0)
          await writeFrom(adapter, v2.data, 0, steps(size / 2, 1000))
          await adapter.stop(refused)
          expect(await adapter.resumeOffset?.(v2.image)).toBe(0)
        }))

      it('keeps an interrupted download (resumable: true) and finishes it from the bytes held', () =>
        withHarness(async (harness) => {
          const { adapter } = harness
          await adapter.start(v2.image, 0)
          const written = await writeFrom(adapter, v2.data, 0, steps(Math.floor(size * 0.6), 1000))
          await adapter.stop(interrupted)
          expect(await harness.readCommitted(), 'nothing committed').not.toSatisfy(
            (bytes: Uint8Array | undefined) => bytes !== undefined && firstDifference(bytes, v2.data) === -1,
          )
          const held = (await adapter.resumeOffset?.(v2.image)) ?? 0
          expect(held, 'bytes kept after stop({ ok: false, resumable: true })').toBeGreaterThan(0)
          expect(held).toBeLessThanOrEqual(written)
          expectBytes(await collect(adapter.readBack!(v2.image, held)), v2.data.subarray(0, held))
          expect(await adapter.resumeOffset?.(v1.image), 'nothing held for another image').toBe(0)
          await adapter.start(v2.image, held)
          await writeFrom(adapter, v2.data, held, steps(size - held, 1000))
          await adapter.stop({ ok: true })
          expectBytes(await harness.readCommitted(), v2.data)
          expect(await adapter.resumeOffset?.(v2.image)).toBe(0)
        }))

      it('keeps an interrupted download across a restart, until a refusal discards it', () =>
        withHarness(async (harness) => {
          await harness.adapter.start(v2.image, 0)
          await writeFrom(harness.adapter, v2.data, 0, steps(Math.floor(size * 0.6), 1000))
          await harness.adapter.stop(interrupted)
          const adapter = await harness.restart!()
          const held = (await adapter.resumeOffset?.(v2.image)) ?? 0
          expect(held).toBeGreaterThan(0)
          await adapter.start(v2.image, held)
          await writeFrom(adapter, v2.data, held, steps(Math.floor(size * 0.8) - held, 1000))
          await adapter.stop(refused)
          expect(await adapter.resumeOffset?.(v2.image)).toBe(0)
        }))

      it('resumes an interrupted download after a restart, re-reading the bytes held', () =>
        withHarness(async (harness) => {
          await harness.adapter.start(v2.image, 0)
          const written = await writeFrom(harness.adapter, v2.data, 0, steps(Math.floor(size * 0.6), 1000))
          const adapter = await harness.restart!()
          const held = (await adapter.resumeOffset?.(v2.image)) ?? 0
          expect(held).toBeGreaterThan(0)
          expect(held).toBeLessThanOrEqual(written)
          expect(adapter.readBack, 'readBack is required when resumeOffset() > 0').toBeTypeOf('function')
          expectBytes(await collect(adapter.readBack!(v2.image, held)), v2.data.subarray(0, held))
          await adapter.start(v2.image, held)
          await writeFrom(adapter, v2.data, held, steps(size - held, 1000))
          await adapter.stop({ ok: true })
          expectBytes(await harness.readCommitted(), v2.data)
          expect(await adapter.resumeOffset?.(v2.image)).toBe(0)
        }))

      it('does not resume a different image, and starts it afresh', () =>
        withHarness(async (harness) => {
          await harness.adapter.start(v1.image, 0)
          await writeFrom(harness.adapter, v1.data, 0, steps(Math.floor(size * 0.6), 1000))
          const adapter = await harness.restart!()
          expect(await adapter.resumeOffset?.({ ...v1.image, version: '9.9.9' })).toBe(0)
          expect(await adapter.resumeOffset?.(v2.image)).toBe(0)
          await download(adapter, v2.image, v2.data)
          expectBytes(await harness.readCommitted(), v2.data)
          expect(await adapter.resumeOffset?.(v1.image)).toBe(0)
        }))
    })
  })
}
