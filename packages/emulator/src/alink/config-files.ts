import { LinkkitError } from '@linkkit/core'
import { FirmwareServer } from '../firmware-server.js'
import type { HttpRouter } from '../http-router.js'
import { MemoryStore, type StateStore, type StateTable } from '../state/store.js'
import type { ConfigFile, ConfigPushParams } from './types.js'

export const CONFIG_PATH = '/config/'

/** A product's configuration as the state store holds it (scale-out); the bytes are a blob. */
interface SharedConfig {
  fileId: string
  offer: ConfigPushParams
  md5: string
}

/**
 * Remote configuration files (COTA), one per product, served under `/config/` on the emulator's
 * HTTP server by a second `FirmwareServer`: exact `Content-Length`, Range, HEAD, like firmware
 * (docs/protocol.md §6 item 7). Offers carry `signMethod: "Sha256"` spelled so, since 3.x matches it
 * case-sensitively (docs/protocol.md §4.4 quirk). With scale-out every node serves every product's
 * file under the same path, from its own origin.
 */
export class ConfigFiles {
  readonly server = new FirmwareServer({ pathPrefix: CONFIG_PATH })
  readonly #offers = new Map<string, { fileId: string; offer: ConfigPushParams }>()
  readonly #baseUrl: () => string
  readonly #store: StateStore
  readonly #table: StateTable<SharedConfig>

  constructor(http: HttpRouter, baseUrl: () => string, store: StateStore = new MemoryStore()) {
    this.#baseUrl = baseUrl
    this.#store = store
    this.#table = store.table('configs')
    this.#table.onChange((productKey, shared) => {
      if (shared !== undefined) this.#adopt(productKey, shared)
    })
    http.route('*', CONFIG_PATH, (req, res) => {
      this.server.handle(req, res)
    })
  }

  /** Sets (replaces) the product's configuration and returns its offer. The bytes are copied. */
  set(productKey: string, file: ConfigFile): ConfigPushParams {
    const { configId, data } = file
    if (typeof configId !== 'string' || configId.length === 0 || configId.length > 128) {
      throw new LinkkitError('ERR_INVALID_ARGUMENT', 'configId must be a string of 1–128 characters')
    }
    if (!(data instanceof Uint8Array))
      throw new LinkkitError('ERR_INVALID_ARGUMENT', 'config data must be bytes')
    this.server.baseUrl = this.#baseUrl()
    const bytes = Uint8Array.from(data)
    const info = this.server.addFile({ data: bytes, name: 'config' })
    const offer: ConfigPushParams = {
      configId,
      configSize: info.size,
      sign: info.sha256,
      signMethod: 'Sha256',
      url: info.url,
      getType: 'file',
    }
    this.#replace(productKey, info.id, offer)
    const shared = { fileId: info.id, offer, md5: info.md5 }
    this.#store.blobs.put(`config:${info.id}`, bytes).then(
      () => this.#table.save(productKey, shared),
      () => {},
    )
    return { ...offer }
  }

  offer(productKey: string): ConfigPushParams | undefined {
    const held = this.#offers.get(productKey)
    return held === undefined ? undefined : { ...held.offer }
  }

  close(): Promise<void> {
    return this.server.close()
  }

  #replace(productKey: string, fileId: string, offer: ConfigPushParams): void {
    const previous = this.#offers.get(productKey)
    if (previous !== undefined && previous.fileId !== fileId) this.server.removeFile(previous.fileId)
    this.#offers.set(productKey, { fileId, offer })
  }

  #adopt(productKey: string, shared: SharedConfig): void {
    this.server.baseUrl = this.#baseUrl()
    const { fileId, offer } = shared
    const info = { id: fileId, name: 'config', size: offer.configSize, md5: shared.md5, sha256: offer.sign }
    const url = this.server.adoptFile(info, () => this.#store.blobs.get(`config:${fileId}`))
    this.#replace(productKey, fileId, { ...offer, url })
  }
}
