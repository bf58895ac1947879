import { isLinkkitError } from '@linkkit/core'
import { TLS_CERT } from '@linkkit/testing/tls'
import { describe, expect, it } from 'vitest'
import { downloadFirmware } from '../src/download/index.js'
import { collect, image, quick, rejection } from './download-helpers.js'
import { httpsFirmware } from './https-firmware.js'

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
