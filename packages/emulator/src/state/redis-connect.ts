import { LinkkitError } from '@linkkit/core'
import { Redis, type RedisOptions } from 'ioredis'

/** How long the first connection attempt may take before `Emulator.start` gives up. */
const CONNECT_TIMEOUT_MS = 5000

/** The URL with its password (and user) replaced, for logs and error messages. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    if (parsed.username !== '') parsed.username = '***'
    return parsed.toString()
  } catch {
    return 'redis://(unparsable URL)'
  }
}

/**
 * Options of a connection that only subscribes. ioredis 5.8.2 to 5.11 send their ready check
 * (`INFO`) and client info after a `(p)subscribe` issued while connecting, or on a reconnect, and
 * the INFO then throws "Connection in subscriber mode" out of a promise callback: an unhandled
 * rejection that ends the process (ioredis issue #2037, fixed by the handshake gate of ioredis 6, a
 * major version that mqemitter-redis and aedes-persistence-redis do not declare yet). A subscriber
 * has no use for either: skip both.
 */
export const SUBSCRIBER_OPTIONS: Readonly<RedisOptions> = Object.freeze({
  enableReadyCheck: false,
  disableClientInfo: true,
})

/**
 * An ioredis client of `url`, connected. The first connection must succeed (else ERR_STATE_STORE,
 * naming the URL without its credentials); once up, a lost connection is retried with backoff
 * and commands wait in ioredis' queue meanwhile.
 */
export async function connectRedis(url: string, options: RedisOptions = {}): Promise<Redis> {
  let started = false
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    enableAutoPipelining: true,
    maxRetriesPerRequest: null,
    retryStrategy: (times) => (started ? Math.min(times * 100, 2000) : null),
    ...options,
  })
  // ioredis reports connection errors as events; they are retried (or end `connect()` below).
  client.on('error', () => {})
  try {
    await client.connect()
  } catch (cause) {
    client.disconnect()
    throw new LinkkitError('ERR_STATE_STORE', `cannot reach Redis at ${redactRedisUrl(url)}`, {
      cause: new Error((cause as Error).message),
    })
  }
  started = true
  return client
}
