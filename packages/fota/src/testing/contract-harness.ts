import { LinkkitError } from '@linkkit/core'
import { expect } from 'vitest'
import type { FirmwareImage, FirmwarePersistence } from '../types.js'
import { firstDifference } from './firmware-fixture.js'

/** One adapter over fresh storage, as {@link runPersistenceContract} needs it. */
export interface PersistenceHarness {
  /** The adapter under test. */
  adapter: FirmwarePersistence
  /** The bytes of the image the adapter committed (`stop({ ok: true })`), undefined when none. */
  readCommitted(): Promise<Uint8Array | undefined>
  /**
   * Simulates a restart in the middle of a download: release the current adapter WITHOUT calling
   * `stop`, and return a new one over the same storage (from then on `readCommitted` reads through
   * it). Needed by the resume checks; omit it when the storage does not survive a restart.
   */
  restart?(): Promise<FirmwarePersistence>
  /**
   * The committed bytes of the file `name` of a multi-file offer, undefined when none. Needed
   * with `multiFile: true`.
   */
  readCommittedFile?(name: string): Promise<Uint8Array | undefined>
  /** Releases the adapter and removes its storage. */
  cleanup(): Promise<void>
}

/** Options of {@link runPersistenceContract}. */
export interface PersistenceContractOptions {
  /** Size of the test images; small enough for the adapter's capacity. @default 20000 */
  imageSizeBytes?: number
  /**
   * Whether a failed download leaves the image committed before it readable. Adapters that stage
   * into the space of the previously committed image (an A/B flash with one spare slot) set
   * false; they must then report no committed image, never the failed bytes.
   * @default true
   */
  keepsCommittedOnFailure?: boolean
  /**
   * The adapter implements `resumeOffset` (and so `readBack`) and the harness can `restart`: the
   * resume checks run. A suite checks that this flag agrees with the adapter.
   * @default false
   */
  resume?: boolean
  /**
   * The adapter stores every file of a multi-file offer under its own name (the harness then
   * needs `readCommittedFile`), committing them together once the last one is verified. When
   * false, the suite checks that the adapter refuses a multi-file offer at its first `start`,
   * with `ERR_PERSISTENCE`, before any byte: never keeping only part of an offer.
   * @default false
   */
  multiFile?: boolean
}

/** A refusal: the bytes are not the image (digest mismatch); they must go. */
export const refused = {
  ok: false,
  error: new LinkkitError('ERR_DIGEST_MISMATCH', 'simulated digest mismatch'),
  resumable: false,
} as const
/** An interruption: the bytes so far are sound (an abort); an adapter that resumes keeps them. */
export const interrupted = {
  ok: false,
  error: new LinkkitError('ERR_ABORTED', 'simulated abort'),
  resumable: true,
} as const
/** Both ways a download ends without a commit. */
export const failures = [
  ['refused', refused],
  ['interrupted', interrupted],
] as const

/** Writes `data` from `from` in chunks of `sizes`; returns the offset reached. */
export async function writeFrom(
  adapter: FirmwarePersistence,
  data: Uint8Array,
  from: number,
  sizes: number[],
) {
  let offset = from
  for (const size of sizes) {
    const end = Math.min(data.length, offset + size)
    await adapter.write(data.subarray(offset, end), offset)
    offset = end
  }
  return offset
}

/** Chunk sizes that cover `length` bytes in `chunk`-sized steps. */
export const steps = (length: number, chunk: number) =>
  Array.from({ length: Math.ceil(length / chunk) }, () => chunk)

/** One whole download of `data` as `image`, committed. */
export async function download(adapter: FirmwarePersistence, image: FirmwareImage, data: Uint8Array) {
  await adapter.start(image, 0)
  await writeFrom(adapter, data, 0, steps(data.length, 4096))
  await adapter.stop({ ok: true })
}

/** The bytes of an async iterable, joined. */
export async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const chunk of chunks) parts.push(chunk)
  return new Uint8Array(Buffer.concat(parts))
}

/** Asserts the committed bytes equal `expected`, naming the first difference. */
export function expectBytes(actual: Uint8Array | undefined, expected: Uint8Array): void {
  expect(actual, 'committed image').toBeDefined()
  const bytes = actual ?? new Uint8Array()
  expect({ length: bytes.length, firstDifference: firstDifference(bytes, expected) }).toEqual({
    length: expected.length,
    firstDifference: -1,
  })
}
