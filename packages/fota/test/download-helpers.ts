import { createHash } from 'node:crypto'
import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { FirmwareServer } from '@linkkit/emulator'
import { type DownloadOptions, type DownloadResult, downloadFirmware } from '../src/download/index.js'
import { runningDigestWorkers } from '../src/trust/digest-worker.js'
import type { DigestMethod } from '../src/types.js'

/** Deterministic pseudo-random bytes (xorshift32), fast enough for tens of MiB. */
export function image(size: number, seed = 1): Uint8Array {
  const words = new Uint32Array(Math.ceil(size / 4))
  let x = seed >>> 0 || 1
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    words[i] = x >>> 0
  }
  return new Uint8Array(words.buffer, 0, size)
}

export function digest(data: Uint8Array, signMethod: DigestMethod): string {
  return createHash(signMethod === 'Md5' ? 'md5' : 'sha256')
    .update(data)
    .digest('hex')
}

/** Starts a firmware server holding `data`; the test disposes it with `await using`. */
export async function serve(data: Uint8Array, name?: string) {
  const server = await FirmwareServer.start()
  const file = server.addFile(name === undefined ? { data } : { data, name })
  return Object.assign(server, {
    file,
    fileStats: () => server.stats(file.id),
    fileFaults: server.faultsFor(file.id),
  })
}

/** Fast retries, so failure paths take milliseconds. */
export const quick: DownloadOptions = { allowHttp: true, retry: { limit: 5, baseDelayMs: 5, maxDelayMs: 20 } }

export interface Collected {
  result: DownloadResult
  /** The bytes the sink received, placed at the offsets it was given. */
  bytes: Uint8Array
  offsets: number[]
}

/** Downloads into memory, checking the sink sees contiguous offsets. */
export async function collect(
  source: { url: string; size: number; signMethod: DigestMethod; digest: string },
  options: DownloadOptions,
  held = 0,
): Promise<Collected> {
  const bytes = new Uint8Array(source.size)
  const offsets: number[] = []
  let next = held
  const result = await downloadFirmware(
    source,
    (chunk, offset) => {
      if (offset !== next) throw new Error(`sink got offset ${offset}, expected ${next}`)
      offsets.push(offset)
      bytes.set(chunk, offset)
      next = offset + chunk.length
    },
    options,
  )
  return { result, bytes, offsets }
}

/** Runs `fn` and returns what it rejected with (fails the test if it resolved). */
export async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn()
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

/** A hand-written HTTP server for answers the firmware server never gives (ignored Range, chunked). */
export async function rawServer(listener: RequestListener) {
  const server: Server = createServer(listener)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/fw.bin`,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** A sink that only counts what it is given. */
export function countingSink() {
  const counter = {
    bytes: 0,
    sink: (chunk: Uint8Array) => {
      counter.bytes += chunk.length
    },
  }
  return counter
}

/** Resolves once no digest thread is alive (the `exit` of a terminated worker comes asynchronously). */
export async function noWorkerLeft(): Promise<void> {
  while (runningDigestWorkers() > 0) await new Promise((resolve) => setTimeout(resolve, 5))
}
