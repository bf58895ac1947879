import { RedisProcess, redisMissing } from '@linkkit/testing/redis'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { redisBroker } from '../../src/state/redis-broker.js'
import { SUBSCRIBER_OPTIONS } from '../../src/state/redis-connect.js'

const N = 40

describe.skipIf(redisMissing !== undefined)(
  `Redis subscriber connections${redisMissing === undefined ? '' : ` (skipped: ${redisMissing})`}`,
  () => {
    it('a connection that subscribes the moment it connects (as aedes does through mqemitter-redis at start and after a reconnect) hears every message, with no unhandled rejection', async () => {
      await using redis = await RedisProcess.start()
      const rejections: unknown[] = []
      const onRejection = (reason: unknown) => rejections.push(reason)
      process.on('unhandledRejection', onRejection)
      const clients: Redis[] = []
      try {
        // With ioredis' default options, a (p)subscribe written between 'connect' and 'ready'
        // puts the connection in subscriber mode before its ready check (INFO), which then fails:
        // such a client hears nothing (seen: 0 of 40) or rejects out of a promise callback.
        const subscribed: Promise<unknown>[] = []
        for (let i = 0; i < N; i++) {
          const client = new Redis(redis.url, { maxRetriesPerRequest: null, ...SUBSCRIBER_OPTIONS })
          client.on('error', () => {})
          subscribed.push(
            new Promise((resolve, reject) =>
              client.once('connect', () => client.psubscribe(`t/${i}/*`).then(resolve, reject)),
            ),
          )
          clients.push(client)
        }
        await Promise.all(subscribed)
        const heard = new Set<string>()
        const all = new Promise<void>((resolve) => {
          for (const client of clients) {
            client.on('pmessage', (_pattern: string, channel: string) => {
              heard.add(channel)
              if (heard.size === N) resolve()
            })
          }
        })
        const pub = new Redis(redis.url)
        try {
          for (let i = 0; i < N; i++) await pub.publish(`t/${i}/x`, 'hello')
          await all
        } finally {
          pub.disconnect()
        }
        expect(heard.size).toBe(N)
        expect(rejections).toEqual([])
      } finally {
        process.off('unhandledRejection', onRejection)
        for (const client of clients) client.disconnect()
      }
    })

    it("the broker's message subscriber is made with those options", async () => {
      await using redis = await RedisProcess.start()
      const broker = redisBroker(redis.url, 'sub-options')
      const mq = broker.options.mq as unknown as {
        subConn: Redis
        pubConn: Redis
        close(cb: () => void): void
      }
      try {
        expect(mq.subConn.options).toMatchObject(SUBSCRIBER_OPTIONS)
        expect(mq.pubConn.options.enableReadyCheck).toBe(true)
      } finally {
        await new Promise<void>((resolve) => mq.close(resolve))
        await broker.close()
      }
    })
  },
)
