import { digestOf } from '../persistence/digest.js'
import type { DigestMethod, FirmwareImage } from '../types.js'

/**
 * A small, fast, seeded PRNG (mulberry32) returning floats in [0, 1): tests that draw random
 * sizes or offsets stay reproducible from the seed they print.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Options of {@link makeFirmware}. */
export interface MakeFirmwareOptions {
  /** Image size in bytes. */
  size: number
  /** Seed of the pseudo-random bytes; two seeds give two different images. @default 1 */
  seed?: number
  /** @default '2.0.0' */
  version?: string
  /** @default 'SHA256' */
  signMethod?: DigestMethod
  /** Module name in the image description. */
  module?: string
}

/** A deterministic firmware image and the description a persistence adapter receives for it. */
export function makeFirmware(options: MakeFirmwareOptions): {
  /** What a persistence adapter is told about the image. */
  image: FirmwareImage
  /** The image bytes. */
  data: Uint8Array
} {
  const random = seededRandom(options.seed ?? 1)
  const data = new Uint8Array(options.size)
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(random() * 256)
  const signMethod = options.signMethod ?? 'SHA256'
  const image: FirmwareImage = {
    version: options.version ?? '2.0.0',
    size: data.length,
    signMethod,
    digest: digestOf(signMethod, [data]),
    ...(options.module === undefined ? {} : { module: options.module }),
  }
  return { image, data }
}

/** Index of the first byte where `a` and `b` differ (or the shorter length), -1 when equal. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i
  return a.length === b.length ? -1 : length
}

/** Options of {@link makeOfferFiles}. */
export interface MakeOfferFilesOptions {
  /** Version of the offer. @default '2.0.0' */
  version?: string
  /** @default 'SHA256' */
  signMethod?: DigestMethod
  /** Module name in the image descriptions. */
  module?: string
  /** The files, in download order. */
  files: ReadonlyArray<{
    /** File name, unique within the offer. */
    name: string
    /** Size in bytes. */
    size: number
    /** Seed of the file's bytes. @default 100 + its index */
    seed?: number
  }>
}

/**
 * The files of a deterministic multi-file offer, each with the description a persistence adapter
 * receives for it (`name` set, and `files` listing the whole offer, as the downloader does).
 */
export function makeOfferFiles(options: MakeOfferFilesOptions): Array<{
  /** What a persistence adapter is told about this file. */
  image: FirmwareImage
  /** The file's bytes. */
  data: Uint8Array
}> {
  const files = Object.freeze(options.files.map((f) => Object.freeze({ name: f.name, size: f.size })))
  return options.files.map((file, i) => {
    const { image, data } = makeFirmware({
      size: file.size,
      seed: file.seed ?? 100 + i,
      version: options.version ?? '2.0.0',
      signMethod: options.signMethod ?? 'SHA256',
      ...(options.module === undefined ? {} : { module: options.module }),
    })
    return { image: { ...image, name: file.name, files }, data }
  })
}
