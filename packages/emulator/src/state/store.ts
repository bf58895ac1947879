import type { AedesOptions } from 'aedes'

/**
 * Where the platform's state lives beyond the process. Each part of the emulator (registry, thing
 * state, OTA, gateways, rollouts) keeps the records it works on in its own maps and reads them
 * synchronously; it hands every change to a `StateStore`, which decides how far the change goes:
 *
 * - `MemoryStore`: nowhere. The process is the whole platform, as before scale-out existed; every
 *   call is a no-op, so the in-memory path costs nothing more than it did.
 * - `RedisStore`: into Redis, which holds the platform's durable copy and tells every other node
 *   of the change in one total order. Those nodes apply it to their maps (`onChange`,
 *   `onAppend`), so any node answers for any device, and a node that starts later loads the lot.
 */
export interface StateStore {
  /** This node's id, unique within the platform (`''` for the memory store). */
  readonly node: string
  /** What aedes needs to share subscriptions, sessions and messages with the other nodes. */
  brokerOptions(): Partial<AedesOptions>
  /** A table of records, one per key (last writer wins per record, in the store's order). */
  table<T>(name: string): StateTable<T>
  /** Bounded append-only lists, one per key (histories: events, OTA progress…). */
  log<T>(name: string, maxEntries: number): StateLog<T>
  /** Messages to the other nodes (commands such as "kick this device"). */
  readonly bus: NodeBus
  /** Large byte strings (firmware images) other nodes fetch when they need them. */
  readonly blobs: BlobStore
  /**
   * Work one node does for the platform (driving a rollout) and another takes over when that node
   * stops renewing it. Undefined for the memory store: no other node could take over.
   */
  readonly leases: Leases | undefined
  /** A fresh id for `kind` (`job`, `fw`, …), unique within the platform. */
  nextId(kind: string): string
  /** Loads what the platform already holds into the tables' listeners, then applies changes live. */
  load(): Promise<void>
  /** Stops applying other nodes' changes (the emulator is closing); writes still go out. */
  mute(): void
  /** Resolves once every change handed over so far is stored. */
  flush(): Promise<void>
  /** Flushes, leaves the platform (the last node out removes its keys) and disconnects. */
  close(): Promise<void>
}

/** Conditions of a write, for records one connection owns (a device's presence, a clientId). */
export interface WriteOptions {
  /** Stored with the record: who holds it now (a connection's token). */
  guard?: string
  /**
   * Writes only while the stored record's guard is this one. When another holder wrote in between,
   * the write is dropped and the stored record comes back through `onChange`.
   */
  ifGuard?: string
}

/** A change another node made to a record (`value` undefined: removed). */
export type TableListener<T> = (key: string, value: T | undefined) => void

/** One kind of record. Values are JSON: what is saved is a copy taken at once. */
export interface StateTable<T> {
  /** Stores the record as this node now holds it. */
  save(key: string, value: T, options?: WriteOptions): void
  /** Removes the record. */
  remove(key: string, options?: Pick<WriteOptions, 'ifGuard'>): void
  /**
   * Stores `value` unless another value is stored (then stored records are equal JSON or absent);
   * true when `value` holds the key now. A plain boolean when the answer is known at once.
   */
  claim(key: string, value: T, guard: string): boolean | Promise<boolean>
  /** Listens to changes made elsewhere (and to this node's conditional writes that lost). */
  onChange(listener: TableListener<T>): void
}

/** Bounded lists of entries per key. */
export interface StateLog<T> {
  /** Appends an entry (the list keeps its last `maxEntries`). */
  append(key: string, entry: T): void
  /** Listens to entries appended elsewhere, oldest first. */
  onAppend(listener: (key: string, entry: T) => void): void
}

/** Broadcasts to the other nodes of the platform. */
export interface NodeBus {
  /** Sends `message` (JSON) on `topic` to every other node. */
  send(topic: string, message: unknown): void
  /** Listens on `topic`; `from` is the sending node. */
  on(topic: string, listener: (message: unknown, from: string) => void): void
}

/** Named leases, each held by at most one node of the platform at a time. */
export interface Leases {
  /** How long a lease outlives its holder's last `hold()`, ms. */
  readonly ttlMs: number
  /** Takes the lease when it is free (or its holder stopped renewing it), renews it when this node holds it; true when this node holds it now. */
  hold(name: string): Promise<boolean>
  /** Frees the lease when this node holds it. */
  release(name: string): Promise<void>
}

/** Byte strings by id. */
export interface BlobStore {
  /** Stores the bytes; resolves once other nodes can read them. */
  put(id: string, bytes: Uint8Array): Promise<void>
  /** The bytes, or undefined when there are none. */
  get(id: string): Promise<Uint8Array | undefined>
  /** Forgets the bytes. */
  delete(id: string): void
}

const noop = (): void => {}

/**
 * The store of a single-process platform: nothing leaves the process, so every call does nothing
 * and no listener ever fires. Ids count per kind from 1 (`job-1`, `fw-1`), as they always have.
 */
export class MemoryStore implements StateStore {
  readonly node = ''
  readonly bus: NodeBus = { send: noop, on: noop }
  readonly blobs: BlobStore = {
    put: () => Promise.resolve(),
    get: () => Promise.resolve(undefined),
    delete: noop,
  }
  readonly leases = undefined
  readonly #ids = new Map<string, number>()

  brokerOptions(): Partial<AedesOptions> {
    return {}
  }

  table<T>(_name: string): StateTable<T> {
    return { save: noop, remove: noop, claim: () => true, onChange: noop }
  }

  log<T>(_name: string, _maxEntries: number): StateLog<T> {
    return { append: noop, onAppend: noop }
  }

  nextId(kind: string): string {
    const next = (this.#ids.get(kind) ?? 0) + 1
    this.#ids.set(kind, next)
    return `${kind}-${next}`
  }

  load(): Promise<void> {
    return Promise.resolve()
  }

  mute(): void {}

  flush(): Promise<void> {
    return Promise.resolve()
  }

  close(): Promise<void> {
    return Promise.resolve()
  }
}
