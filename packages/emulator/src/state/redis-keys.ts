import type { Redis } from 'ioredis'

/** The key names of one platform: every key starts with `${prefix}:`. */
export class PlatformKeys {
  constructor(readonly prefix: string) {}

  key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':')
  }

  node(id: string): string {
    return this.key('node', id)
  }

  /** Whether a node other than `self` has a live heartbeat key. */
  async othersAlive(cmd: Redis, self: string): Promise<boolean> {
    for await (const batch of scan(cmd, this.node('*'))) {
      if (batch.some((key) => key !== this.node(self))) return true
    }
    return false
  }

  /** Removes every key of the platform but `keep` (the last node left, or the first one found leftovers). */
  async purge(cmd: Redis, keep = ''): Promise<void> {
    for await (const batch of scan(cmd, `${this.prefix}:*`)) {
      const doomed = batch.filter((key) => key !== keep)
      if (doomed.length > 0) await cmd.unlink(...doomed)
    }
  }
}

async function* scan(cmd: Redis, pattern: string): AsyncGenerator<string[]> {
  let cursor = '0'
  do {
    const [next, keys] = await cmd.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = next
    yield keys
  } while (cursor !== '0')
}
