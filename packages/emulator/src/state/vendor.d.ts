// aedes-persistence-redis ships no typings. Its main entry wraps the promise-based class in
// aedes-persistence's CallBackPersistence, which is what aedes 1.x takes (as it takes aedes-persistence's
// memory one): promises for most calls, a Node stream from createRetainedStreamCombi.
declare module 'aedes-persistence-redis' {
  import type { AedesOptions } from 'aedes'
  import type { Redis } from 'ioredis'

  /** A persistence for aedes on the given ioredis connection. */
  export default function redisPersistence(options: {
    conn: Redis
    maxSessionDelivery?: number
  }): NonNullable<AedesOptions['persistence']>
}
