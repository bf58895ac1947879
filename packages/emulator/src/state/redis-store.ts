import { createHash, randomBytes } from 'node:crypto'
import type { AedesOptions } from 'aedes'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { redisBrokerOptions } from './redis-broker.js'
import { connectRedis } from './redis-connect.js'
import { APPEND_SCRIPT, WRITE_SCRIPT } from './redis-scripts.js'
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

interface Header {
  /** Order within the platform (tables and logs). */
  s?: number
  /** The writing node. */
  n: string
  /** Table name, field, op, lost. */
  t?: string
  f?: string
  o?: 'set' | 'del'
  l?: number
  /** Log name. */
  g?: string
  /** Bus topic. */
  b?: string
}

interface TableEntry {
  name: string
  listeners: Array<TableListener<unknown>>
}

interface LogEntry {
  name: string
  max: number
  listeners: Array<(key: string, entry: unknown) => void>
}

interface Script {
  sha: string
  lua: string
}

function script(lua: string): Script {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') }
}

const WRITE = script(WRITE_SCRIPT)
const APPEND = script(APPEND_SCRIPT)

/**
 * The state of a platform in Redis, shared by every node started with the same `redisUrl` and
 * `redisPrefix` (see `StateStore`). All keys start with `${prefix}:`; changes travel on the channel
 * `${prefix}:changes` in the order Redis ran them. A node applies others' changes in that order;
 * its own writes are applied locally at once, so a change of another node that Redis ran before a
 * write of this node still in flight is outdated and dropped.
 */
export class RedisStore implements StateStore {
  readonly node: string
  readonly bus: NodeBus
  readonly blobs: BlobStore
  readonly #cmd: Redis
  readonly #sub: Redis
  readonly #url: string
  readonly #keys: PlatformKeys
  readonly #channel: string
  readonly #logger: Logger
  readonly #tables = new Map<string, TableEntry>()
  readonly #logs = new Map<string, LogEntry>()
  readonly #bus = new Map<string, Array<(message: unknown, from: string) => void>>()
  /** Own writes per `table\0key` whose message has not come back yet. */
  readonly #pending = new Map<string, number>()
  /** Sequence numbers of what `load()` read, for messages that crossed it; dropped once live. */
  #loaded: Map<string, number> | undefined = new Map()
  /** Messages that arrived before `load()` finished. */
  #buffer: string[] | undefined = []
  #muted = false
  #ids = 0
  #heartbeat: NodeJS.Timeout | undefined
  #closed: Promise<void> | undefined

  private constructor(cmd: Redis, sub: Redis, url: string, keys: PlatformKeys, node: string, logger: Logger) {
    this.#cmd = cmd
    this.#sub = sub
    this.#url = url
    this.#keys = keys
    this.#channel = keys.key('changes')
    this.node = node
    this.#logger = logger
    this.bus = {
      send: (topic, message) => this.#publish({ n: node, b: topic }, JSON.stringify(message ?? null)),
      on: (topic, listener) => {
        const list = this.#bus.get(topic) ?? []
        list.push(listener)
        this.#bus.set(topic, list)
      },
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
  static async open(url: string, prefix: string, logger: Logger): Promise<RedisStore> {
    const cmd = await connectRedis(url)
    let sub: Redis | undefined
    try {
      sub = await connectRedis(url)
      const keys = new PlatformKeys(prefix)
      let node = randomBytes(3).toString('hex')
      while ((await cmd.set(keys.node(node), String(Date.now()), 'PX', NODE_TTL_MS, 'NX')) !== 'OK') {
        node = randomBytes(3).toString('hex')
      }
      if (!(await keys.othersAlive(cmd, node))) await keys.purge(cmd, keys.node(node))
      const store = new RedisStore(cmd, sub, url, keys, node, logger)
      sub.on('message', (_channel: string, message: string) => store.#receive(message))
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
    return redisBrokerOptions(this.#url, this.#keys.prefix)
  }

  table<T>(name: string): StateTable<T> {
    const entry: TableEntry = { name, listeners: [] }
    this.#tables.set(name, entry)
    const write = (key: string, op: 'set' | 'del' | 'claim', json: string, options: WriteOptions = {}) => {
      const pendingKey = `${name}\0${key}`
      this.#pending.set(pendingKey, (this.#pending.get(pendingKey) ?? 0) + 1)
      const conditional = options.ifGuard === undefined ? '0' : '1'
      return this.#run(
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
        this.#settle(pendingKey)
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
    this.#logs.set(name, entry)
    return {
      append: (key, value) => {
        this.#run(
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
    const loaded = this.#loaded ?? new Map<string, number>()
    for (const table of this.#tables.values()) {
      const stored = await this.#cmd.hgetall(this.#key('t', table.name))
      for (const [field, raw] of Object.entries(stored)) {
        const first = raw.indexOf('\n')
        const second = raw.indexOf('\n', first + 1)
        loaded.set(`${table.name}\0${field}`, Number(raw.slice(0, first)))
        this.#emitTable(table, field, JSON.parse(raw.slice(second + 1)) as unknown)
      }
    }
    for (const log of this.#logs.values()) {
      for (const key of await this.#cmd.smembers(this.#key('li', log.name))) {
        for (const raw of await this.#cmd.lrange(this.#key('l', log.name, key), 0, -1)) {
          const nl = raw.indexOf('\n')
          loaded.set(`${log.name}\0${key}`, Number(raw.slice(0, nl)))
          this.#emitLog(log, key, JSON.parse(raw.slice(nl + 1)) as unknown)
        }
      }
    }
    const buffered = this.#buffer ?? []
    this.#buffer = undefined
    for (const message of buffered) this.#receive(message)
    // Messages published before this marker may still repeat what was read; after it, none can.
    this.#publish({ n: this.node, b: '$loaded' }, 'null')
  }

  mute(): void {
    this.#muted = true
  }

  async flush(): Promise<void> {
    await this.#cmd.ping()
  }

  close(): Promise<void> {
    this.#closed ??= this.#close()
    return this.#closed
  }

  async #close(): Promise<void> {
    this.#muted = true
    clearInterval(this.#heartbeat)
    try {
      await this.flush()
      await this.#cmd.del(this.#keys.node(this.node))
      if (!(await this.#keys.othersAlive(this.#cmd, this.node))) await this.#keys.purge(this.#cmd)
    } catch (error) {
      this.#failed(error, 'close')
    }
    await Promise.allSettled([this.#sub.quit(), this.#cmd.quit()])
  }

  #receive(message: string): void {
    if (this.#buffer !== undefined) {
      this.#buffer.push(message)
      return
    }
    const nl = message.indexOf('\n')
    let header: Header
    try {
      header = JSON.parse(message.slice(0, nl)) as Header
    } catch {
      return
    }
    const body = message.slice(nl + 1)
    try {
      if (header.t !== undefined) this.#onTable(header, body)
      else if (header.g !== undefined) this.#onLog(header, body)
      else if (header.b !== undefined) this.#onBus(header, body)
    } catch (error) {
      this.#logger.error({ err: error }, 'applying a change of another node failed')
    }
  }

  #onTable(header: Header, body: string): void {
    const table = this.#tables.get(header.t ?? '')
    const field = header.f ?? ''
    if (table === undefined) return
    const key = `${table.name}\0${field}`
    if (header.n === this.node) {
      this.#settle(key)
      // This node's conditional write lost: the stored record replaces what it holds.
      if (header.l === 1) this.#emitTable(table, field, header.o === 'del' ? undefined : JSON.parse(body))
      return
    }
    if (header.l === 1 || (this.#pending.get(key) ?? 0) > 0) return
    if (this.#seen(key, header.s)) return
    this.#emitTable(table, field, header.o === 'del' ? undefined : (JSON.parse(body) as unknown))
  }

  #onLog(header: Header, body: string): void {
    const log = this.#logs.get(header.g ?? '')
    const field = header.f ?? ''
    if (log === undefined || header.n === this.node) return
    if (this.#seen(`${log.name}\0${field}`, header.s)) return
    this.#emitLog(log, field, JSON.parse(body) as unknown)
  }

  #onBus(header: Header, body: string): void {
    if (header.n === this.node) {
      if (header.b === '$loaded') this.#loaded = undefined
      return
    }
    if (this.#muted) return
    const message = JSON.parse(body) as unknown
    for (const listener of this.#bus.get(header.b ?? '') ?? []) listener(message, header.n)
  }

  /** Whether `load()` already read this change. */
  #seen(key: string, seq: number | undefined): boolean {
    const loaded = this.#loaded?.get(key)
    return loaded !== undefined && seq !== undefined && seq <= loaded
  }

  #emitTable(table: TableEntry, key: string, value: unknown): void {
    if (this.#muted) return
    for (const listener of table.listeners) listener(key, value)
  }

  #emitLog(log: LogEntry, key: string, entry: unknown): void {
    if (this.#muted) return
    for (const listener of log.listeners) listener(key, entry)
  }

  #settle(pendingKey: string): void {
    const left = (this.#pending.get(pendingKey) ?? 1) - 1
    if (left <= 0) this.#pending.delete(pendingKey)
    else this.#pending.set(pendingKey, left)
  }

  #publish(header: Header, body: string): void {
    this.#cmd
      .publish(this.#channel, `${JSON.stringify(header)}\n${body}`)
      .catch((e: unknown) => this.#failed(e, 'bus'))
  }

  async #run(s: Script, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await this.#cmd.evalsha(s.sha, keys.length, ...keys, ...args)
    } catch (error) {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error
      return await this.#cmd.eval(s.lua, keys.length, ...keys, ...args)
    }
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

/** The key names of one platform: every key starts with `${prefix}:`. */
class PlatformKeys {
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
