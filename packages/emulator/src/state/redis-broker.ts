/// <reference path="./vendor.d.ts" />
import type { AedesOptions } from 'aedes'
import redisPersistence from 'aedes-persistence-redis'
import { Redis } from 'ioredis'
import mqemitterRedis from 'mqemitter-redis'

/** The `MQEmitterRedisPrefix` that mqemitter-redis exports beside its default (its typings omit it). */
type PrefixedEmitter = new (
  prefix: string,
  options: { subConn: Redis; pubConn: Redis },
) => NonNullable<AedesOptions['mq']>

function redis(url: string, keyPrefix?: string): Redis {
  const client = new Redis(url, {
    enableAutoPipelining: true,
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 100, 2000),
    ...(keyPrefix === undefined ? {} : { keyPrefix }),
  })
  // A lost connection is retried; without a listener ioredis' 'error' event would end the process.
  client.on('error', () => {})
  return client
}

/**
 * aedes on Redis, as aedes scales out: messages travel through mqemitter-redis (on channels
 * `${prefix}/mqtt/<topic>`, so platforms sharing one Redis never hear each other; not `${prefix}/<topic>`:
 * mqemitter-redis turns a `#` subscription into the channel pattern `${prefix}/mqtt*`, which must
 * not match the state store's channel `${prefix}:changes`, whose messages it cannot decode) and subscriptions,
 * persistent sessions, queued QoS 1 messages and retained messages live in
 * aedes-persistence-redis (keys under `${prefix}:mqtt:`). Each gets connections of its own, which
 * aedes closes with the broker.
 */
export function redisBrokerOptions(url: string, prefix: string): Partial<AedesOptions> {
  const Prefixed = (mqemitterRedis as unknown as { MQEmitterRedisPrefix: PrefixedEmitter })
    .MQEmitterRedisPrefix
  return {
    mq: new Prefixed(`${prefix}/mqtt/`, { subConn: redis(url), pubConn: redis(url) }),
    persistence: redisPersistence({ conn: redis(url, `${prefix}:mqtt:`) }),
  }
}
