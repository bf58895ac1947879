import { LinkkitError } from '@linkkit/core'
import { FirmwareServer } from '../firmware-server.js'
import type { HttpRouter } from '../http-router.js'
import type { ConfigFile, ConfigPushParams } from './types.js'

export const CONFIG_PATH = '/config/'

/**
 * Remote configuration files (COTA), one per product, served under `/config/` on the emulator's
 * HTTP server by a second `FirmwareServer`: exact `Content-Length`, Range, HEAD, like firmware
 * (docs/protocol.md §6 item 7). Offers carry `signMethod: "Sha256"` spelled so, since 3.x matches it
 * case-sensitively (docs/protocol.md §4.4 quirk).
 */
export class ConfigFiles {
  readonly server = new FirmwareServer({ pathPrefix: CONFIG_PATH })
  readonly #offers = new Map<string, { fileId: string; offer: ConfigPushParams }>()
  readonly #baseUrl: () => string

  constructor(http: HttpRouter, baseUrl: () => string) {
    this.#baseUrl = baseUrl
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
    const info = this.server.addFile({ data: Uint8Array.from(data), name: 'config' })
    const previous = this.#offers.get(productKey)
    if (previous !== undefined) this.server.removeFile(previous.fileId)
    const offer: ConfigPushParams = {
      configId,
      configSize: info.size,
      sign: info.sha256,
      signMethod: 'Sha256',
      url: info.url,
      getType: 'file',
    }
    this.#offers.set(productKey, { fileId: info.id, offer })
    return { ...offer }
  }

  offer(productKey: string): ConfigPushParams | undefined {
    const held = this.#offers.get(productKey)
    return held === undefined ? undefined : { ...held.offer }
  }

  close(): Promise<void> {
    return this.server.close()
  }
}
