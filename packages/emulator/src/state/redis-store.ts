import { randomBytes } from 'node:crypto'
import type { AedesOptions } from 'aedes'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { type RedisBroker, redisBroker } from './redis-broker.js'
import { ChangeFeed, type Header, type LogEntry, type TableEntry } from './redis-changes.js'
import { connectRedis, SUBSCRIBER_OPTIONS } from './redis-connect.js'
import { PlatformKeys } from './redis-keys.js'
import { RedisLeases } from './redis-leases.js'
import { APPEND_SCRIPT, runScript, script, WRITE_SCRIPT } from './redis-scripts.js'
import type {
  BlobStore,
  NodeBus,
  StateLog,
  StateStore,
  StateTable,
  TableListener,
  WriteOptions,
} from './store.js'

/** A node's liveness key expires this long after its last heartbeat. */
const NODE_TTL_MS = 15_000
const HEARTBEAT_MS = 5_000

const WRITE = script(WRITE_SCRIPT)
const APPEND = script(APPEND_SCRIPT)

/** Options of `RedisStore.open`. */
export interface RedisStoreOptions {
  /** How long a lease outlives its holder's last renewal, ms. */
  leaseMs: number
}

/**
 * The state of a platform in Redis, shared by every node started with the same `redisUrl` and
 * `redisPrefix` (see `StateStore`). All keys start with `${prefix}:`; changes travel on the channel
 * `${prefix}:changes` in the order Redis ran them. A node applies others' changes in that order
 * (`ChangeFeed`); its own writes are applied locally at once, so a change of another node that
 * Redis ran before a write of this node still in flight is outdated and dropped.
 */
export class RedisStore implements StateStore {
  readonly node: string
  readonly bus: NodeBus
  readonly blobs: BlobStore
  readonly leases: RedisLeases
  readonly #cmd: Redis
  readonly #sub: Redis
  readonly #url: string
  readonly #keys: PlatformKeys
  readonly #channel: string
  readonly #logger: Logger
  readonly #feed: ChangeFeed
  #broker: RedisBroker | undefined
  #ids = 0
  #heartbeat: NodeJS.Timeout | undefined
  #closed: Promise<void> | undefined

  private constructor(
    cmd: Redis,
    sub: Redis,
    url: string,
    keys: PlatformKeys,
    node: string,
    logger: Logger,
    options: RedisStoreOptions,
  ) {
    this.#cmd = cmd
    this.#sub = sub
    this.#url = url
    this.#keys = keys
    this.#channel = keys.key('changes')
    this.node = node
    this.#logger = logger
    this.#feed = new ChangeFeed(node, logger)
    this.leases = new RedisLeases(cmd, keys, node, options.leaseMs)
    this.bus = {
      send: (topic, message) => this.#publish({ n: node, b: topic }, JSON.stringify(message ?? null)),
      on: (topic, listener) => this.#feed.onBus(topic, listener),
    }
    this.blobs = {
      put: async (id, bytes) => {
        await this.#cmd.set(this.#key('b', id), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
      },
      get: async (id) => (await this.#cmd.getBuffer(this.#key('b', id))) ?? undefined,
      delete: (id) => {
        this.#cmd.unlink(this.#key('b', id)).catch((error: unknown) => this.#failed(error, 'blob delete'))
      },
    }
  }

  /**
   * Connects, subscribes to the platform's changes (held until `load()`), and joins the platform:
   * when no other node of it is alive, whatever an earlier run left under the prefix is removed
   * first, so a platform starts empty. Rejects ERR_STATE_STORE when Redis cannot be reached.
   */
  static async open(
    url: string,
    prefix: string,
    logger: Logger,
    options: RedisStoreOptions,
  ): Promise<RedisStore> {
    const cmd = await connectRedis(url)
    let sub: Redis | undefined
    try {
      sub = await connectRedis(url, SUBSCRIBER_OPTIONS)
      const keys = new PlatformKeys(prefix)
      let node = randomBytes(3).toString('hex')
      while ((await cmd.set(keys.node(node), String(Date.now()), 'PX', NODE_TTL_MS, 'NX')) !== 'OK') {
        node = randomBytes(3).toString('hex')
      }
      if (!(await keys.othersAlive(cmd, node))) await keys.purge(cmd, keys.node(node))
      const store = new RedisStore(cmd, sub, url, keys, node, logger, options)
      sub.on('message', (_channel: string, message: string) => store.#feed.receive(message))
      await sub.subscribe(store.#channel)
      store.#heartbeat = setInterval(() => store.#beat(), HEARTBEAT_MS)
      store.#heartbeat.unref()
      return store
    } catch (error) {
      cmd.disconnect()
      sub?.disconnect()
      throw error
    }
  }

  brokerOptions(): Partial<AedesOptions> {
    this.#broker ??= redisBroker(this.#url, this.#keys.prefix)
    return this.#broker.options
  }

  table<T>(name: string): StateTable<T> {
    const entry: TableEntry = { name, listeners: [] }
    this.#feed.tables.set(name, entry)
    const write = (key: string, op: 'set' | 'del' | 'claim', json: string, options: WriteOptions = {}) => {
      const pendingKey = `${name}\0${key}`
      this.#feed.writing(pendingKey)
      const conditional = options.ifGuard === undefined ? '0' : '1'
      return runScript(
        this.#cmd,
        WRITE,
        [this.#key('t', name), this.#key('seq')],
        [
          key,
          op,
          json,
          options.guard ?? '',
          options.ifGuard ?? '',
          conditional,
          this.#channel,
          this.node,
          name,
        ],
      ).catch((error: unknown) => {
        this.#feed.settle(pendingKey)
        throw error
      })
    }
    return {
      save: (key, value, options) => {
        write(key, 'set', JSON.stringify(value), options).catch((e: unknown) => this.#failed(e, name))
      },
      remove: (key, options) => {
        write(key, 'del', '', options).catch((e: unknown) => this.#failed(e, name))
      },
      claim: async (key, value, guard) => (await write(key, 'claim', JSON.stringify(value), { guard })) === 1,
      onChange: (listener) => {
        entry.listeners.push(listener as TableListener<unknown>)
      },
    }
  }

  log<T>(name: string, maxEntries: number): StateLog<T> {
    const entry: LogEntry = { name, max: maxEntries, listeners: [] }
    this.#feed.logs.set(name, entry)
    return {
      append: (key, value) => {
        runScript(
          this.#cmd,
          APPEND,
          [this.#key('l', name, key), this.#key('seq'), this.#key('li', name)],
          [JSON.stringify(value), String(maxEntries), this.#channel, this.node, name, key],
        ).catch((e: unknown) => this.#failed(e, name))
      },
      onAppend: (listener) => {
        entry.listeners.push(listener as (key: string, entry: unknown) => void)
      },
    }
  }

  nextId(kind: string): string {
    this.#ids += 1
    return `${kind}-${this.node}-${this.#ids}`
  }

  /**
   * Reads every table (in the order they were made) and log into their listeners, then applies the
   * changes that arrived meanwhile, without those the reads already held.
   */
  async load(): Promise<void> {
    const feed = this.#feed
    for (const table of feed.tables.values()) {
      const stored = await this.#cmd.hgetall(this.#key('t', table.name))
      for (const [field, raw] of Object.entries(stored)) {
        const first = raw.indexOf('\n')
        const second = raw.indexOf('\n', first + 1)
        feed.loaded(`${table.name}\0${field}`, Number(raw.slice(0, first)))
        feed.emitTable(table, field, JSON.parse(raw.slice(second + 1)) as unknown)
      }
    }
    for (const log of feed.logs.values()) {
      for (const key of await this.#cmd.smembers(this.#key('li', log.name))) {
        for (const raw of await this.#cmd.lrange(this.#key('l', log.name, key), 0, -1)) {
          const nl = raw.indexOf('\n')
          feed.loaded(`${log.name}\0${key}`, Number(raw.slice(0, nl)))
          feed.emitLog(log, key, JSON.parse(raw.slice(nl + 1)) as unknown)
        }
      }
    }
    feed.live()
    // Messages published before this marker may still repeat what was read; after it, none can.
    this.#publish({ n: this.node, b: '$loaded' }, 'null')
  }

  mute(): void {
    this.#feed.mute()
  }

  async flush(): Promise<void> {
    await this.#cmd.ping()
  }

  close(): Promise<void> {
    this.#closed ??= this.#close()
    return this.#closed
  }

  async #close(): Promise<void> {
    this.#feed.mute()
    clearInterval(this.#heartbeat)
    try {
      await this.flush()
      await this.#cmd.del(this.#keys.node(this.node))
      if (!(await this.#keys.othersAlive(this.#cmd, this.node))) await this.#keys.purge(this.#cmd)
    } catch (error) {
      this.#failed(error, 'close')
    }
    // The emulator closed the broker before its store.
    await Promise.allSettled([this.#sub.quit(), this.#cmd.quit(), this.#broker?.close()])
  }

  #publish(header: Header, body: string): void {
    this.#cmd
      .publish(this.#channel, `${JSON.stringify(header)}\n${body}`)
      .catch((e: unknown) => this.#failed(e, 'bus'))
  }

  #beat(): void {
    this.#cmd
      .set(this.#keys.node(this.node), String(Date.now()), 'PX', NODE_TTL_MS)
      .catch((e: unknown) => this.#failed(e, 'heartbeat'))
  }

  #key(...parts: string[]): string {
    return this.#keys.key(...parts)
  }

  #failed(error: unknown, what: string): void {
    this.#logger.warn({ err: error, what }, 'Redis state write failed')
  }
}
