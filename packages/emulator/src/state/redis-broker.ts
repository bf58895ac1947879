/// <reference path="./vendor.d.ts" />
import type { AedesOptions } from 'aedes'
import redisPersistence from 'aedes-persistence-redis'
import { Redis, type RedisOptions } from 'ioredis'
import mqemitterRedis from 'mqemitter-redis'
import { SUBSCRIBER_OPTIONS } from './redis-connect.js'

/** The `MQEmitterRedisPrefix` that mqemitter-redis exports beside its default (its typings omit it). */
type PrefixedEmitter = new (
  prefix: string,
  options: { subConn: Redis; pubConn: Redis },
) => NonNullable<AedesOptions['mq']>

function redis(url: string, options: RedisOptions = {}): Redis {
  const client = new Redis(url, {
    enableAutoPipelining: true,
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 100, 2000),
    ...options,
  })
  // A lost connection is retried; without a listener ioredis' 'error' event would end the process.
  client.on('error', () => {})
  return client
}

/** aedes' options on Redis, and how to end the connection aedes does not close itself. */
export interface RedisBroker {
  options: Partial<AedesOptions>
  /** Quits the persistence's connection: call once the broker closed. */
  close(): Promise<void>
}

/**
 * aedes on Redis, as aedes scales out: messages travel through mqemitter-redis (on channels
 * `${prefix}/mqtt/<topic>`, so platforms sharing one Redis never hear each other; not `${prefix}/<topic>`:
 * mqemitter-redis turns a `#` subscription into the channel pattern `${prefix}/mqtt*`, which must
 * not match the state store's channel `${prefix}:changes`, whose messages it cannot decode) and subscriptions,
 * persistent sessions, queued QoS 1 messages and retained messages live in
 * aedes-persistence-redis (keys under `${prefix}:mqtt:`). Each gets connections of its own. aedes'
 * `close()` closes the emitter's, not the persistence's (it never calls `persistence.destroy()`,
 * whose unsubscribe would go through the emitter already closed): `close()` here quits it, else
 * it would keep the process alive and reconnect forever once Redis is gone.
 */
export function redisBroker(url: string, prefix: string): RedisBroker {
  const Prefixed = (mqemitterRedis as unknown as { MQEmitterRedisPrefix: PrefixedEmitter })
    .MQEmitterRedisPrefix
  const conn = redis(url, { keyPrefix: `${prefix}:mqtt:` })
  return {
    options: {
      mq: new Prefixed(`${prefix}/mqtt/`, { subConn: redis(url, SUBSCRIBER_OPTIONS), pubConn: redis(url) }),
      persistence: redisPersistence({ conn }),
    },
    close: async () => {
      await conn.quit().catch(() => conn.disconnect())
    },
  }
}
