import type { AddressInfo } from 'node:net'
import { createServer, type Server } from 'node:tls'
import { Connection, isLinkkitError } from '@linkkit/core'
import { TLS_CERT, TLS_KEY } from '@linkkit/testing/tls'
import { Aedes } from 'aedes'
import { describe, expect, it } from 'vitest'

/** An MQTT broker behind TLS with a self-signed certificate for 127.0.0.1. */
async function tlsBroker() {
  const broker = await Aedes.createBroker()
  const clientIds: string[] = []
  broker.on('client', (client) => clientIds.push(client.id))
  const server: Server = createServer({ cert: TLS_CERT, key: TLS_KEY }, (socket) => broker.handle(socket))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `mqtts://127.0.0.1:${port}`,
    clientIds,
    async [Symbol.asyncDispose]() {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await new Promise<void>((resolve) => broker.close(() => resolve()))
    },
  }
}

const device = {
  productKey: 'a1B2c3D4e5F',
  deviceName: 'device001',
  deviceSecret: '0123456789abcdef0123456789abcdef',
}

describe('mqtts:// connections', () => {
  it('verify the broker certificate by default: an unknown CA is refused', async () => {
    await using broker = await tlsBroker()
    await using c = new Connection({ ...device, brokerUrl: broker.url, reconnect: false })
    const error = await c.connect().catch((e: unknown) => e)
    expect(isLinkkitError(error, 'ERR_CONNECTION')).toBe(true)
    expect((error as { details?: { errno?: string } }).details?.errno).toBe('DEPTH_ZERO_SELF_SIGNED_CERT')
    expect(broker.clientIds).toEqual([])
  })

  it('trust a user CA, and sign with securemode=2 over TLS', async () => {
    await using broker = await tlsBroker()
    await using c = new Connection({ ...device, brokerUrl: broker.url, tls: { ca: TLS_CERT } })
    await c.connect()
    expect(broker.clientIds[0]).toMatch(/\|securemode=2,/)
  })

  it('skip verification only when rejectUnauthorized is false by name', async () => {
    await using broker = await tlsBroker()
    await using c = new Connection({ ...device, brokerUrl: broker.url, tls: { rejectUnauthorized: false } })
    await c.connect()
    expect(c.connected).toBe(true)
  })
})
