import { type LinkkitError, type Session, toLinkkitError } from '@linkkit/core'

/** Running versions a user wants informed at every (re)connect of the session. */
export interface VersionSource {
  /** `[module, version]` pairs; module `default` is the whole device firmware. */
  versions(): Iterable<readonly [string, string]>
  /** An inform of one of its versions could not be sent. */
  failed(error: LinkkitError): void
}

/** Sends one inform (the channel's `inform`). */
export type SendInform = (version: string, module: string) => Promise<void>

/** One inform's identity: the module (the default one however named) and the version. */
function informKey(module: string | undefined, version: string): string {
  return `${module === undefined || module === 'default' ? '' : module}\u0000${version}`
}

/**
 * The automatic version informs of one identity (docs/protocol.md §3.2: after every connection,
 * as 3.x does): every source's versions at each (re)connect, and a new source's at once. However
 * many sources name a module and version, it goes out once per connection.
 */
export class VersionInforms {
  readonly #session: Session
  readonly #send: SendInform
  readonly #sources = new Set<VersionSource>()
  /** Informed on the current connection (tracked while sources listen). */
  readonly #informed = new Set<string>()
  readonly #onConnected = () => {
    this.#informed.clear()
    void this.#inform(this.#sources)
  }
  readonly #onDisconnected = () => this.#informed.clear()

  constructor(session: Session, send: SendInform) {
    this.#session = session
    this.#send = send
  }

  /** Informs the source's versions at every (re)connect until the returned function is called. */
  register(source: VersionSource): () => void {
    if (this.#sources.size === 0) {
      this.#session.on('connected', this.#onConnected)
      this.#session.on('disconnected', this.#onDisconnected)
    }
    this.#sources.add(source)
    return () => {
      if (!this.#sources.delete(source) || this.#sources.size > 0) return
      this.#session.off('connected', this.#onConnected)
      this.#session.off('disconnected', this.#onDisconnected)
      this.#informed.clear()
    }
  }

  /** Informs now what of the source's versions this connection was not told yet. */
  informNow(source: VersionSource): Promise<void> {
    return this.#inform([source])
  }

  /** Notes an inform sent on request, so the automatic ones do not repeat it on this connection. */
  sent(module: string | undefined, version: string): void {
    if (this.#sources.size > 0) this.#informed.add(informKey(module, version))
  }

  async #inform(sources: Iterable<VersionSource>): Promise<void> {
    const pairs = new Map<string, { module: string; version: string; askers: VersionSource[] }>()
    for (const source of sources) {
      for (const [module, version] of source.versions()) {
        const key = informKey(module, version)
        if (this.#informed.has(key)) continue
        const pair = pairs.get(key) ?? { module, version, askers: [] }
        pair.askers.push(source)
        pairs.set(key, pair)
      }
    }
    // Marked before sending, so a concurrent caller does not send the same inform again.
    for (const key of pairs.keys()) this.#informed.add(key)
    for (const [key, { module, version, askers }] of pairs) {
      try {
        await this.#send(version, module)
      } catch (error) {
        this.#informed.delete(key)
        for (const source of askers) source.failed(toLinkkitError(error, 'ERR_PUBLISH_FAILED'))
      }
    }
  }
}
