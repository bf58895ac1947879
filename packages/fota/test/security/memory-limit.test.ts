import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { FotaClient } from '../../src/fota-client.js'
import { MEMORY_PERSISTENCE_MAX_BYTES, MemoryPersistence } from '../../src/persistence/memory.js'
import { makeFirmware } from '../../src/testing/firmware-fixture.js'
import type { FirmwareOffer } from '../../src/types.js'
import { type Rig, startRig, steps, waitFor } from '../helpers/rig.js'

/*
 * Finding 7 (first bullet): `new MemoryPersistence()` had no size limit, so a hostile offer of
 * 1 TiB filled RAM (2 GiB in 8 s). It now refuses any offer above 64 MiB at `start`, before a
 * byte is fetched, with ERR_PERSISTENCE (`details.reason: 'too-large'`) reported as step -4: the
 * storage cannot hold the image, the same step as any other adapter that cannot take it.
 */
const TiB = 1024 ** 4

/**
 * A firmware server that announces 1 TiB and streams zeros: 8 MiB per response, then it drops the
 * connection (enough to show an unbounded adapter growing, without taking the test run down with it).
 */
async function endlessServer(): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0
  const server: Server = createServer((_req, res) => {
    requests += 1
    res.writeHead(200, { 'Content-Length': String(TiB) })
    const zeros = Buffer.alloc(64 * 1024)
    let sent = 0
    const pump = () => {
      while (!res.destroyed && sent < 8 * 1024 * 1024) {
        sent += zeros.length
        if (!res.write(zeros)) return void res.once('drain', pump)
      }
      res.destroy()
    }
    pump()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/firmware.bin?Expires=1&Signature=secret`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

async function offered(rig: Rig, fota: FotaClient, data: Record<string, unknown>): Promise<FirmwareOffer> {
  const offers: FirmwareOffer[] = []
  fota.on('fota', (offer) => offers.push(offer))
  await rig.push(data)
  return waitFor(() => offers[0], 3000, 'the offer')
}

describe('MemoryPersistence has a finite default size', () => {
  it('refuses a 1 TiB offer before any byte is fetched, reports -4, and holds nothing', async () => {
    await using rig = await startRig()
    const server = await endlessServer()
    try {
      const memory = new MemoryPersistence()
      await using fota = new FotaClient(rig.connection, {
        version: '1.0.0',
        persistence: memory,
        allowHttp: true,
      })
      await fota.start()
      const offer = await offered(rig, fota, {
        version: '6.6.6',
        size: TiB,
        url: server.url,
        signMethod: 'Md5',
        md5: '0'.repeat(32),
      })
      expect(offer.size).toBe(TiB)
      const before = process.memoryUsage().arrayBuffers
      const error = await fota.download(offer).catch((e: unknown) => e)
      expect(error).toMatchObject({
        name: 'LinkkitError',
        code: 'ERR_PERSISTENCE',
        details: { reason: 'too-large', size: TiB, limit: MEMORY_PERSISTENCE_MAX_BYTES },
      })
      expect(server.requests(), 'requests to the firmware server').toBe(0)
      expect(memory.bytes()).toBeUndefined()
      // Nothing was fetched, so nothing was buffered: well under one MiB of new buffers.
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024)
      await waitFor(() => steps(rig.progress).includes('-4'), 3000, 'step -4')
      expect(rig.progress.at(-1)?.desc).toContain(`image of ${TiB} bytes exceeds maxSizeBytes`)
    } finally {
      await server.close()
    }
  })

  it('counts every file of a multi-file offer, and refuses the offer at its first start', () => {
    const memory = new MemoryPersistence()
    const half = MEMORY_PERSISTENCE_MAX_BYTES / 2
    const image = {
      ...makeFirmware({ size: 10, version: '6.6.6' }).image,
      size: half,
      name: 'app.bin',
      files: [
        { name: 'app.bin', size: half },
        { name: 'res.bin', size: half + 1 },
      ],
    }
    expect(() => memory.start(image, 0)).toThrow(
      expect.objectContaining({
        code: 'ERR_PERSISTENCE',
        details: expect.objectContaining({ reason: 'too-large' }),
      }),
    )
    // Exactly the limit is accepted; Infinity lifts it for whoever asks by name.
    expect(() =>
      memory.start(
        {
          ...image,
          files: [
            { name: 'app.bin', size: half },
            { name: 'res.bin', size: half },
          ],
        },
        0,
      ),
    ).not.toThrow()
    expect(() =>
      new MemoryPersistence({ maxSizeBytes: Number.POSITIVE_INFINITY }).start(
        { ...image, files: undefined, size: TiB },
        0,
      ),
    ).not.toThrow()
  })
})
