// aedes-persistence-redis ships no typings; aedes 1.x takes its promise-based class, which the
// package's main entry wraps in callbacks.
declare module 'aedes-persistence-redis/asyncPersistence.js' {
  import type { Redis } from 'ioredis'

  /** The promise-based Redis persistence aedes 1.x requires (`persistence.setup` is async). */
  export default class AsyncRedisPersistence {
    constructor(options: { conn: Redis; maxSessionDelivery?: number })
  }
}
