import type { ServerResponse } from 'node:http'
import { isLinkkitError, type LinkkitError } from '@linkkit/core'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_DEADLINE_MS,
  DEFAULT_MIN_BYTES_PER_SECOND,
  DEFAULT_RATE_WINDOW_MS,
  downloadFirmware,
} from '../../src/download/index.js'
import { FotaClient } from '../../src/fota-client.js'
import { MemoryPersistence } from '../../src/persistence/memory.js'
import { countingSink, digest, image, quick, rawServer, rejection } from '../download-helpers.js'
import { startRig, waitFor } from '../helpers/rig.js'

// Finding 8b of issue 10: the downloader had no overall deadline and no minimum rate, so a server
// that trickles 1 byte a second never trips the idle timeout and holds the download for ever.

/** Answers 200 with the full length announced, then sends `bytesPerTick` bytes every `tickMs`. */
function trickle(data: Uint8Array, bytesPerTick: number, tickMs: number) {
  return (_req: unknown, res: ServerResponse) => {
    res.writeHead(200, { 'Content-Length': String(data.length), 'Content-Type': 'application/octet-stream' })
    let sent = 0
    const timer = setInterval(() => {
      const next = Math.min(data.length, sent + bytesPerTick)
      res.write(data.subarray(sent, next))
      sent = next
      if (sent >= data.length) {
        clearInterval(timer)
        res.end()
      }
    }, tickMs)
    res.on('close', () => clearInterval(timer))
  }
}

/** Old code knows no rate floor nor deadline: this bound turns its endless wait into ERR_ABORTED. */
const backstop = () => AbortSignal.timeout(8000)

describe('the downloader has a minimum rate and an overall deadline (issue 10, 8b)', () => {
  it('a server trickling bytes fast enough for the idle timeout is cut by the rate floor: ERR_DOWNLOAD_TOO_SLOW', async () => {
    const data = image(100_000, 81)
    await using server = await rawServer(trickle(data, 1, 20)) // 50 bytes/s, a byte every 20 ms
    const sunk = countingSink()
    const source = {
      url: server.url,
      size: data.length,
      signMethod: 'Md5' as const,
      digest: digest(data, 'Md5'),
    }
    const error = await rejection(() =>
      downloadFirmware(source, sunk.sink, {
        ...quick,
        idleTimeoutMs: 2000,
        minBytesPerSecond: 1000,
        rateWindowMs: 300,
        signal: backstop(),
      }),
    )
    expect(isLinkkitError(error, 'ERR_DOWNLOAD_TOO_SLOW')).toBe(true)
    const { details } = error as LinkkitError
    expect(details).toMatchObject({ minBytesPerSecond: 1000 })
    expect(details?.bytesPerSecond as number).toBeLessThan(1000)
    // Not retried: a trickling server would trickle again, and each stored byte resets the retry count.
    expect(sunk.bytes).toBeLessThan(100)
  })

  it('the deadline stops a download that is not too slow but takes too long: ERR_DOWNLOAD_DEADLINE', async () => {
    const data = image(200_000, 82)
    await using server = await rawServer(trickle(data, 2000, 20)) // 100 KB/s: 2 s for the image
    const source = {
      url: server.url,
      size: data.length,
      signMethod: 'Md5' as const,
      digest: digest(data, 'Md5'),
    }
    const sunk = countingSink()
    const error = await rejection(() =>
      downloadFirmware(source, sunk.sink, {
        ...quick,
        deadlineMs: 300,
        minBytesPerSecond: 1000,
        signal: backstop(),
      }),
    )
    expect(isLinkkitError(error, 'ERR_DOWNLOAD_DEADLINE')).toBe(true)
    expect((error as LinkkitError).details).toMatchObject({ deadlineMs: 300 })
    expect(sunk.bytes).toBeGreaterThan(0)
    expect(sunk.bytes).toBeLessThan(data.length)
  })

  it('the deadline also covers retries and their backoff', async () => {
    let requests = 0
    await using server = await rawServer((_req, res) => {
      requests++
      res.writeHead(503, { 'Content-Length': '0' })
      res.end()
    })
    const source = { url: server.url, size: 1000, signMethod: 'Md5' as const, digest: 'a'.repeat(32) }
    const error = await rejection(() =>
      downloadFirmware(source, countingSink().sink, {
        allowHttp: true,
        retry: { limit: 100, baseDelayMs: 5000, maxDelayMs: 5000 },
        deadlineMs: 300,
        signal: backstop(),
      }),
    )
    expect(isLinkkitError(error, 'ERR_DOWNLOAD_DEADLINE')).toBe(true)
    expect(requests).toBe(1)
  })

  it('a trickled firmware download through FotaClient rejects with the coded error and reports step -2', async () => {
    await using rig = await startRig()
    const data = image(50_000, 83)
    await using server = await rawServer(trickle(data, 1, 20))
    const persistence = new MemoryPersistence()
    await using fota = new FotaClient(rig.connection, { version: '1.0.0', persistence, allowHttp: true })
    await fota.start()
    const offer = {
      version: '2.0.0',
      size: data.length,
      url: server.url,
      signMethod: 'Md5' as const,
      digest: digest(data, 'Md5'),
    }
    const error = await fota
      .download(offer, { minBytesPerSecond: 1000, rateWindowMs: 300, signal: backstop() })
      .catch((e: unknown) => e)
    expect(isLinkkitError(error, 'ERR_DOWNLOAD_TOO_SLOW')).toBe(true)
    await waitFor(() => rig.progress.find((p) => p.step === '-2'), 3000, 'step -2')
    expect(rig.progress.find((p) => p.step === '-2')?.desc).toMatch(/bytes\/s/)
  })

  it('has defaults a firmware download over a slow cellular link stays inside', () => {
    expect(DEFAULT_MIN_BYTES_PER_SECOND).toBe(1024)
    expect(DEFAULT_RATE_WINDOW_MS).toBe(60_000)
    expect(DEFAULT_DEADLINE_MS).toBe(24 * 60 * 60 * 1000)
  })

  it('validates the new options', async () => {
    const source = {
      url: 'http://127.0.0.1:1/fw.bin',
      size: 10,
      signMethod: 'Md5' as const,
      digest: 'a'.repeat(32),
    }
    for (const bad of [
      { minBytesPerSecond: -1 },
      { rateWindowMs: 0 },
      { deadlineMs: 0 },
      { deadlineMs: 2 ** 31 },
    ]) {
      const error = await rejection(() => downloadFirmware(source, countingSink().sink, { ...quick, ...bad }))
      expect(isLinkkitError(error, 'ERR_INVALID_OPTIONS')).toBe(true)
    }
  })
})
