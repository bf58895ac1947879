import type { Settings } from '../start-options.js'
import { MemoryStore, type StateStore } from './store.js'

/**
 * The store the settings ask for: Redis with `redisUrl` (its modules load only then), else memory.
 * Rejects ERR_STATE_STORE when Redis cannot be reached.
 */
export async function openStore(settings: Settings): Promise<StateStore> {
  if (settings.redisUrl === undefined) return new MemoryStore()
  const { RedisStore } = await import('./redis-store.js')
  return RedisStore.open(
    settings.redisUrl,
    settings.redisPrefix,
    settings.logger.child({ component: 'state' }),
    { leaseMs: settings.redisLeaseMs },
  )
}
