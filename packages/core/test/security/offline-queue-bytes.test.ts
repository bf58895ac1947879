import { PlainBroker } from '@linkkit/testing/plain-broker'
import { describe, expect, it } from 'vitest'
import { Connection } from '../../src/connection.js'
import { isLinkkitError, type LinkkitError } from '../../src/errors.js'
import { DEFAULT_OFFLINE_QUEUE } from '../../src/offline-queue.js'
import type { ConnectionOptions } from '../../src/options.js'

// Finding 7b of issue 10: the offline queue bounded its message count but not its bytes, so
// 1,000 publishes of 1 MiB made while the broker was away were all held (0.87 GiB).

const triple = { productKey: 'a1QueueBytes', deviceName: 'queue-dev-1', deviceSecret: 'queue-secret-0123' }
const topic = `/sys/${triple.productKey}/${triple.deviceName}/thing/event/property/post`
const MiB = 1024 * 1024

/** A connected device whose broker then went away: publishes go to the offline queue. */
async function offlineDevice(broker: PlainBroker, extra: Partial<ConnectionOptions> = {}) {
  const c = new Connection({
    ...triple,
    brokerUrl: broker.url,
    reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
    ...extra,
  })
  await c.connect()
  await broker.stop()
  await expect.poll(() => c.state).toBe('reconnecting')
  return c
}

const outcome = (p: Promise<void>) =>
  p.then(
    () => 'sent',
    (e: unknown) => e,
  )

describe('the offline queue is bounded in bytes (issue 10, 7b)', () => {
  it('holds at most the default byte bound when 1,000 publishes of 1 MiB are made offline', async () => {
    await using broker = await PlainBroker.start()
    await using c = await offlineDevice(broker)
    const payload = new Uint8Array(MiB)
    const results = Array.from({ length: 1000 }, () => outcome(c.publish(topic, payload)))
    const held = c.queuedCount
    expect(held * MiB).toBeLessThanOrEqual(DEFAULT_OFFLINE_QUEUE.maxBytes)
    expect(c.queuedBytes).toBeLessThanOrEqual(DEFAULT_OFFLINE_QUEUE.maxBytes)
    expect(c.queuedBytes).toBeGreaterThan(DEFAULT_OFFLINE_QUEUE.maxBytes - MiB - topic.length)
    // reject-new: the publishes beyond the bound reject at once, with the count bound's error.
    const refused = await Promise.all(results.slice(held))
    for (const error of refused) expect(isLinkkitError(error, 'ERR_OFFLINE_QUEUE_FULL')).toBe(true)
    expect((refused[0] as LinkkitError).details).toMatchObject({ maxBytes: DEFAULT_OFFLINE_QUEUE.maxBytes })
    await c.close()
    for (const early of await Promise.all(results.slice(0, held))) {
      expect(isLinkkitError(early, 'ERR_CLOSED')).toBe(true)
    }
  })

  it('drop-oldest drops as many old publishes as the new one needs, each rejected, and sends the rest', async () => {
    await using broker = await PlainBroker.start()
    const c = await offlineDevice(broker, { offlineQueue: { maxBytes: 10_000, overflow: 'drop-oldest' } })
    const errors: LinkkitError[] = []
    c.on('error', (e) => errors.push(e))
    const small = [1, 2, 3].map((i) => outcome(c.publish(topic, `${i}`.repeat(3000))))
    const big = outcome(c.publish(topic, '4'.repeat(6000)))
    for (const dropped of await Promise.all(small.slice(0, 2))) {
      expect(isLinkkitError(dropped, 'ERR_OFFLINE_QUEUE_FULL')).toBe(true)
    }
    expect(c.queuedCount).toBe(2)
    expect(c.queuedBytes).toBe(9000 + 2 * topic.length)
    expect(errors.some((e) => isLinkkitError(e, 'ERR_OFFLINE_QUEUE_FULL'))).toBe(true)
    await broker.start()
    expect(await small[2]).toBe('sent')
    expect(await big).toBe('sent')
    const delivered = broker.published.filter((p) => p.topic === topic).map((p) => p.payload.toString()[0])
    expect(delivered).toEqual(['3', '4'])
    expect(c.queuedBytes).toBe(0)
    await c.close()
  })

  it('refuses a publish larger than the whole bound without dropping anything', async () => {
    await using broker = await PlainBroker.start()
    await using c = await offlineDevice(broker, { offlineQueue: { maxBytes: 5000, overflow: 'drop-oldest' } })
    const kept = outcome(c.publish(topic, 'k'.repeat(1000)))
    const huge = await outcome(c.publish(topic, 'h'.repeat(6000)))
    expect(isLinkkitError(huge, 'ERR_OFFLINE_QUEUE_FULL')).toBe(true)
    expect(c.queuedCount).toBe(1)
    await c.close()
    expect(isLinkkitError(await kept, 'ERR_CLOSED')).toBe(true)
  })

  it('validates maxBytes at construction', () => {
    for (const maxBytes of [-1, 1.5, Number.NaN]) {
      expect(() => new Connection({ ...triple, offlineQueue: { maxBytes } })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }),
      )
    }
  })
})
