import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { downloadFirmware } from '../src/download/index.js'
import { collect, image, quick, serve } from './download-helpers.js'

const MiB = 1024 * 1024

/** A real `gc()`: collecting before each sample measures what the download retains, not GC slack. */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

describe('downloadFirmware memory', () => {
  it('streams a 64 MiB image with flat memory (the image is never held whole)', async () => {
    const gc = exposeGc()
    const data = image(64 * MiB, 61)
    await using server = await serve(data)
    const source = {
      url: server.file.url,
      size: data.length,
      signMethod: 'SHA256' as const,
      digest: server.file.sha256,
    }
    const warmUp = image(2 * MiB, 62)
    await using warm = await serve(warmUp)
    await collect({ ...source, url: warm.file.url, size: warmUp.length, digest: warm.file.sha256 }, quick)
    gc()
    const baseline = process.memoryUsage()
    let rss = 0
    let buffers = 0
    let held = 0
    const result = await downloadFirmware(
      source,
      async (chunk, offset) => {
        expect(offset).toBe(held)
        held += chunk.length
        if (held % (4 * MiB) >= chunk.length) return
        gc()
        const now = process.memoryUsage()
        rss = Math.max(rss, now.rss - baseline.rss)
        buffers = Math.max(buffers, now.arrayBuffers - baseline.arrayBuffers)
        await Promise.resolve()
      },
      quick,
    )
    expect(result).toMatchObject({ bytes: data.length, digest: server.file.sha256, requests: 1 })
    console.log(
      `64 MiB image: rss +${(rss / MiB).toFixed(1)} MiB, array buffers +${(buffers / MiB).toFixed(1)} MiB`,
    )
    expect(rss).toBeLessThan(data.length / 4)
    expect(buffers).toBeLessThan(data.length / 4)
  })
})
