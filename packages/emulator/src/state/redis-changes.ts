import type { Logger } from 'pino'
import type { TableListener } from './store.js'

/** The first line of a message on the platform's channel (see redis-scripts.ts). */
export interface Header {
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

export interface TableEntry {
  name: string
  listeners: Array<TableListener<unknown>>
}

export interface LogEntry {
  name: string
  max: number
  listeners: Array<(key: string, entry: unknown) => void>
}

/**
 * The receiving side of a `RedisStore`: the listeners of its tables, logs and bus topics, and
 * which of the changes heard on the channel reach them. Changes come in the order Redis ran them;
 * those heard before `load()` finished wait for it, those `load()` already read are dropped, and
 * so is another node's change to a record this node has a write in flight for (outdated by it).
 */
export class ChangeFeed {
  readonly tables = new Map<string, TableEntry>()
  readonly logs = new Map<string, LogEntry>()
  readonly #bus = new Map<string, Array<(message: unknown, from: string) => void>>()
  readonly #node: string
  readonly #logger: Logger
  /** Own writes per `table\0key` whose message has not come back yet. */
  readonly #pending = new Map<string, number>()
  /** Sequence numbers of what `load()` read, for messages that crossed it; dropped once live. */
  #loaded: Map<string, number> | undefined = new Map()
  /** Messages that arrived before `load()` finished. */
  #buffer: string[] | undefined = []
  #muted = false

  constructor(node: string, logger: Logger) {
    this.#node = node
    this.#logger = logger
  }

  onBus(topic: string, listener: (message: unknown, from: string) => void): void {
    const list = this.#bus.get(topic) ?? []
    list.push(listener)
    this.#bus.set(topic, list)
  }

  /** A write of this node to `table\0key` is on its way. */
  writing(pendingKey: string): void {
    this.#pending.set(pendingKey, (this.#pending.get(pendingKey) ?? 0) + 1)
  }

  /** That write came back (or failed). */
  settle(pendingKey: string): void {
    const left = (this.#pending.get(pendingKey) ?? 1) - 1
    if (left <= 0) this.#pending.delete(pendingKey)
    else this.#pending.set(pendingKey, left)
  }

  /** `load()` read this entry, stored at `seq`. */
  loaded(key: string, seq: number): void {
    this.#loaded?.set(key, seq)
  }

  /** `load()` read everything: the messages held meanwhile are applied, later ones at once. */
  live(): void {
    const buffered = this.#buffer ?? []
    this.#buffer = undefined
    for (const message of buffered) this.receive(message)
  }

  mute(): void {
    this.#muted = true
  }

  receive(message: string): void {
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

  emitTable(table: TableEntry, key: string, value: unknown): void {
    if (this.#muted) return
    for (const listener of table.listeners) listener(key, value)
  }

  emitLog(log: LogEntry, key: string, entry: unknown): void {
    if (this.#muted) return
    for (const listener of log.listeners) listener(key, entry)
  }

  #onTable(header: Header, body: string): void {
    const table = this.tables.get(header.t ?? '')
    const field = header.f ?? ''
    if (table === undefined) return
    const key = `${table.name}\0${field}`
    if (header.n === this.#node) {
      this.settle(key)
      // This node's conditional write lost: the stored record replaces what it holds.
      if (header.l === 1) this.emitTable(table, field, header.o === 'del' ? undefined : JSON.parse(body))
      return
    }
    if (header.l === 1 || (this.#pending.get(key) ?? 0) > 0) return
    if (this.#seen(key, header.s)) return
    this.emitTable(table, field, header.o === 'del' ? undefined : (JSON.parse(body) as unknown))
  }

  #onLog(header: Header, body: string): void {
    const log = this.logs.get(header.g ?? '')
    const field = header.f ?? ''
    if (log === undefined || header.n === this.#node) return
    if (this.#seen(`${log.name}\0${field}`, header.s)) return
    this.emitLog(log, field, JSON.parse(body) as unknown)
  }

  #onBus(header: Header, body: string): void {
    if (header.n === this.#node) {
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
}
