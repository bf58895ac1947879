import { expect } from 'vitest'
import type { Connection } from '../../src/connection.js'

export interface SoakBroker {
  /** Stops the broker (its connections drop) and starts it again on the same port. */
  stop(): Promise<void>
  start(): Promise<void>
  /** Publishes a downlink from the cloud side. */
  downlink(topic: string, payload: string): Promise<void>
  /** The `i` of every post the broker received, in arrival order (duplicates included). */
  received(): number[]
}

/**
 * 1,000 QoS1 property posts across 5 broker restarts: every post arrives, in order, none twice
 * beyond QoS1's at-least-once resend of in-flight messages, and subscriptions work after each restart.
 */
export async function restartSoak(
  device: Connection,
  broker: SoakBroker,
  count = 1000,
  restarts = 5,
): Promise<void> {
  const post = `/sys/${device.productKey}/${device.deviceName}/thing/event/property/post`
  const service = `/sys/${device.productKey}/${device.deviceName}/thing/service/ping`
  const pings: string[] = []
  await device.subscribe(service, (_t, p) => {
    pings.push(p.toString())
  })
  await device.connect()
  const window = 10
  const sent: Array<Promise<void>> = []
  const every = Math.floor(count / (restarts + 1))
  for (let i = 0; i < count; i++) {
    sent.push(
      device.publish(post, {
        id: String(i),
        version: '1.0',
        params: { i },
        method: 'thing.event.property.post',
      }),
    )
    if (i % window === window - 1) await Promise.all(sent.slice(-window))
    if (i > 0 && i % every === 0 && i / every <= restarts) {
      const round = i / every
      const reconnected = new Promise<void>((resolve) => device.once('connected', () => resolve()))
      await broker.stop()
      await expect.poll(() => device.state).toBe('reconnecting')
      // posts made while the broker is down wait in the offline queue
      for (let k = 0; k < 3 && i + 1 < count; k++) {
        i++
        sent.push(
          device.publish(post, {
            id: String(i),
            version: '1.0',
            params: { i },
            method: 'thing.event.property.post',
          }),
        )
      }
      await broker.start()
      await reconnected
      await broker.downlink(service, `ping-${round}`)
      await expect.poll(() => pings.includes(`ping-${round}`), { timeout: 5000 }).toBe(true)
    }
  }
  await Promise.all(sent)
  await expect
    .poll(() => new Set(broker.received()).size, { timeout: 10_000 })
    .toBe(count)
    .catch((e: unknown) => {
      const s = new Set(broker.received())
      throw new Error(`missing ${Array.from({ length: count }, (_, i) => i).filter((i) => !s.has(i))}`, {
        cause: e,
      })
    })
  const received = broker.received()
  const firsts: number[] = []
  const seen = new Set<number>()
  for (const i of received) {
    if (!seen.has(i)) firsts.push(i)
    seen.add(i)
  }
  expect(firsts).toEqual(Array.from({ length: count }, (_, i) => i))
  // Only messages in flight at a restart may come twice (QoS1 at-least-once).
  expect(received.length - count).toBeLessThanOrEqual(restarts * window)
  expect(pings).toEqual(Array.from({ length: restarts }, (_, r) => `ping-${r + 1}`))
}
