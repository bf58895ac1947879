import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { isLinkkitError } from '@linkkit/core'
import { FirmwareServer } from '@linkkit/emulator'
import { TLS_CERT, TLS_KEY } from '@linkkit/testing/tls'
import { describe, expect, it } from 'vitest'
import { downloadFirmware } from '../src/download/index.js'
import { collect, image, quick, rejection } from './download-helpers.js'

/** The firmware server mounted on an HTTPS server of its own, as the emulator mounts it. */
async function httpsFirmware(data: Uint8Array) {
  const http: Server = createServer({ cert: TLS_CERT, key: TLS_KEY })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const { port } = http.address() as AddressInfo
  const firmware = new FirmwareServer({ baseUrl: `https://127.0.0.1:${port}` })
  http.on('request', (req, res) => {
    if (!firmware.handle(req, res)) res.writeHead(404, { 'Content-Length': '0' }).end()
  })
  let connections = 0
  http.on('connection', () => {
    connections += 1
  })
  const file = firmware.addFile({ data })
  const source = { url: file.url, size: data.length, signMethod: 'SHA256' as const, digest: file.sha256 }
  return {
    requests: () => firmware.stats(file.id).requests,
    connections: () => connections,
    source,
    async [Symbol.asyncDispose]() {
      await firmware.close()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}

const https = { retry: { limit: 3, baseDelayMs: 5 } }

describe('downloadFirmware over HTTPS', () => {
  it('verifies the server certificate by default and does not retry a failed verification', async () => {
    await using server = await httpsFirmware(image(100_000, 51))
    const error = await rejection(() => downloadFirmware(server.source, () => {}, https))
    expect(isLinkkitError(error, 'ERR_DOWNLOAD_FAILED')).toBe(true)
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT')
    expect(server.connections()).toBe(1)
    expect(server.requests()).toBe(0)
  })

  it('trusts a CA given in tls.ca', async () => {
    const data = image(500_000, 52)
    await using server = await httpsFirmware(data)
    const { bytes } = await collect(server.source, { ...https, tls: { ca: TLS_CERT } })
    expect(Buffer.compare(bytes, data)).toBe(0)
  })

  it('skips verification only when rejectUnauthorized is false by name', async () => {
    const data = image(50_000, 53)
    await using server = await httpsFirmware(data)
    const { bytes } = await collect(server.source, { ...quick, tls: { rejectUnauthorized: false } })
    expect(Buffer.compare(bytes, data)).toBe(0)
  })
})
