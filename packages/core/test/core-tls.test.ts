import { Connection, isLinkkitError } from '@linkkit/core'
import { PlainBroker } from '@linkkit/testing/plain-broker'
import { TLS_CERT } from '@linkkit/testing/tls'
import { describe, expect, it } from 'vitest'

/** An MQTT broker behind TLS with a self-signed certificate for 127.0.0.1. */
const tlsBroker = () => PlainBroker.start({ tls: true })

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
    expect(broker.connects).toEqual([])
  })

  it('trust a user CA, and sign with securemode=2 over TLS', async () => {
    await using broker = await tlsBroker()
    await using c = new Connection({ ...device, brokerUrl: broker.url, tls: { ca: TLS_CERT } })
    await c.connect()
    expect(broker.connects[0]?.clientId).toMatch(/\|securemode=2,/)
  })

  it('skip verification only when rejectUnauthorized is false by name', async () => {
    await using broker = await tlsBroker()
    await using c = new Connection({ ...device, brokerUrl: broker.url, tls: { rejectUnauthorized: false } })
    await c.connect()
    expect(c.connected).toBe(true)
  })
})
