import { connect, createServer, type Socket } from 'node:net'
import { LINKKIT_WARNING } from '@linkkit/core'
import { PlainBroker } from '@linkkit/testing/plain-broker'
import { describe, expect, it } from 'vitest'
import { simulateFleet } from '../src/index.js'
import { triples, until } from './helpers.js'

/** A TCP relay in front of a broker whose connections the test can reset (the client sees ECONNRESET). */
async function resettingRelay(port: number) {
  const inbound = new Set<Socket>()
  const server = createServer((socket) => {
    const upstream = connect(port, '127.0.0.1')
    inbound.add(socket)
    socket.on('close', () => {
      inbound.delete(socket)
      upstream.destroy()
    })
    upstream.on('close', () => socket.destroy())
    socket.on('error', () => {})
    upstream.on('error', () => {})
    socket.pipe(upstream).pipe(socket)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  return {
    url: `mqtt://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    reset: () => {
      for (const s of inbound) s.resetAndDestroy()
      return inbound.size
    },
    async [Symbol.asyncDispose]() {
      for (const s of inbound) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

describe('a fleet whose connections are reset', () => {
  it('counts each ECONNRESET, reconnects every device through its queue, and leaves no error unheard', async () => {
    await using broker = await PlainBroker.start()
    await using relay = await resettingRelay(broker.port)
    const warnings: Error[] = []
    const onWarning = (warning: Error) => warnings.push(warning)
    process.on('warning', onWarning)
    try {
      const devices = triples(6, 'reset-')
      await using fleet = await simulateFleet({
        url: relay.url,
        devices,
        postIntervalMs: 0,
        backoff: { initialDelayMs: 50, maxDelayMs: 200 },
      })
      await fleet.whenConnected()
      expect(relay.reset()).toBe(6)
      await until('every device to notice', () => fleet.metrics().disconnects === 6)
      await until('every device to be back', () => fleet.metrics().connects === 12)
      const m = fleet.metrics()
      expect(m.connected).toBe(6)
      // A reset socket reports ECONNRESET (counted) unless its close was seen first (then it is moot).
      expect(Object.keys(m.errors)).toEqual(['ERR_CONNECTION'])
      expect(m.errors.ERR_CONNECTION).toBeLessThanOrEqual(6)
      // Reset again while the fleet closes: what the closing clients still report is expected.
      relay.reset()
      await fleet.close()
    } finally {
      process.off('warning', onWarning)
    }
    expect(warnings.filter((w) => w.name === LINKKIT_WARNING)).toEqual([])
  }, 30_000)
})
