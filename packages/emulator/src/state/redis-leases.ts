import type { Redis } from 'ioredis'
import type { PlatformKeys } from './redis-keys.js'
import { HOLD_SCRIPT, RELEASE_SCRIPT, runScript, script } from './redis-scripts.js'
import type { Leases } from './store.js'

const HOLD = script(HOLD_SCRIPT)
const RELEASE = script(RELEASE_SCRIPT)

/**
 * Leases in Redis: `${prefix}:lease:<name>` holds the node's id and expires `ttlMs` after the
 * holder last renewed it (one script, so taking and renewing never race), as SET NX PX does.
 */
export class RedisLeases implements Leases {
  readonly ttlMs: number
  readonly #cmd: Redis
  readonly #keys: PlatformKeys
  readonly #node: string

  constructor(cmd: Redis, keys: PlatformKeys, node: string, ttlMs: number) {
    this.#cmd = cmd
    this.#keys = keys
    this.#node = node
    this.ttlMs = ttlMs
  }

  async hold(name: string): Promise<boolean> {
    const held = await runScript(
      this.#cmd,
      HOLD,
      [this.#keys.key('lease', name)],
      [this.#node, String(this.ttlMs)],
    )
    return held === 1
  }

  async release(name: string): Promise<void> {
    await runScript(this.#cmd, RELEASE, [this.#keys.key('lease', name)], [this.#node])
  }
}
