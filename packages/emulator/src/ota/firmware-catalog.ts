import { createHmac, randomBytes } from 'node:crypto'
import { assertTopicSegment, LinkkitError } from '@linkkit/core'
import type { FirmwareServer } from '../firmware-server.js'
import { MemoryStore, type StateStore, type StateTable } from '../state/store.js'
import { checkSecurityVersion, firmwareSigner, signatureFields } from './firmware-signing.js'
import {
  type AddFirmwareOptions,
  DEFAULT_MODULE,
  type Firmware,
  type FirmwareFileRecord,
  type OtaSignMethod,
} from './types.js'

/** At most this many files in a multi-file push (4.x limit, docs/protocol.md §3.3). */
const MAX_FILES = 20
const MAX_VERSION_LENGTH = 64
/** Fake URLs "expire" an hour after they are issued, like a pre-signed OSS URL. */
const URL_LIFETIME_SECONDS = 3600

function invalid(message: string, field: string): LinkkitError {
  return new LinkkitError('ERR_INVALID_ARGUMENT', message, { details: { field } })
}

function checkVersion(version: unknown, field: string): string {
  // Control characters would break the JSON-by-hand renderings of the C SDKs.
  const control = /[\p{Cc}]/u
  if (typeof version !== 'string' || version.length === 0 || version.length > MAX_VERSION_LENGTH) {
    throw invalid(`${field} must be a string of 1-${MAX_VERSION_LENGTH} characters`, field)
  }
  if (control.test(version)) throw invalid(`${field} must not contain control characters`, field)
  return version
}

function checkData(data: unknown, field: string): Uint8Array {
  if (!(data instanceof Uint8Array) || data.length === 0) {
    throw invalid(`${field} must be a non-empty Uint8Array`, field)
  }
  return data
}

/**
 * The firmware packages of the emulated platform; their files live on the firmware server. With
 * scale-out a package is shared (`share`) once its bytes are in the state store, and every node
 * serves it under the same path, from its own origin.
 */
export class FirmwareCatalog {
  readonly #server: FirmwareServer
  readonly #baseUrl: () => string
  readonly #byId = new Map<string, Firmware>()
  readonly #urlKey = randomBytes(16)
  readonly #store: StateStore
  readonly #table: StateTable<Firmware>

  constructor(server: FirmwareServer, baseUrl: () => string, store: StateStore = new MemoryStore()) {
    this.#server = server
    this.#baseUrl = baseUrl
    this.#store = store
    this.#table = store.table('firmware')
    this.#table.onChange((id, firmware) => {
      if (firmware !== undefined && !this.#byId.has(id)) this.#adopt(firmware)
    })
  }

  /** Stores the firmware's files and record for the other nodes; resolves once they can serve it. */
  async share(firmware: Firmware): Promise<void> {
    for (const file of firmware.files) {
      const data = this.#server.fileData(file.fileId)
      if (data !== undefined) await this.#store.blobs.put(`firmware:${file.fileId}`, data)
    }
    this.#table.save(firmware.id, firmware)
  }

  get(id: string): Firmware | undefined {
    return this.#byId.get(id)
  }

  add(options: AddFirmwareOptions): Firmware {
    const productKey = assertTopicSegment(options.productKey, 'productKey')
    const version = checkVersion(options.version, 'version')
    // A signed image (signed here, or by the caller in extData) defaults to a SHA256 offer: the
    // signature is over the image's SHA-256, so the device verifies both with one digest (an Md5
    // offer costs it a second hash of every byte).
    const signed = options.signingKey !== undefined || options.extData?.signature !== undefined
    const signMethod: OtaSignMethod = options.signMethod ?? (signed ? 'SHA256' : 'Md5')
    if (signMethod !== 'Md5' && signMethod !== 'SHA256') {
      throw invalid('signMethod must be "Md5" or "SHA256"', 'signMethod')
    }
    const module = options.module === undefined ? DEFAULT_MODULE : checkVersion(options.module, 'module')
    const inputs = this.#inputs(options)
    // Before any file is served: a bad key leaves nothing behind.
    const extData = this.#extData(options, inputs)
    if (this.#server.baseUrl === '') this.#server.baseUrl = this.#baseUrl()
    const files = inputs.map(({ name, data }) => this.#addFile(name, data, signMethod))
    const [first] = files
    if (first === undefined) throw invalid('a firmware needs a file', 'data')
    const firmware: Firmware = {
      id: this.#store.nextId('fw'),
      productKey,
      version,
      module,
      signMethod,
      isDiff: options.isDiff === true,
      extData,
      multiFile: options.files !== undefined,
      files,
      name: first.name,
      size: first.size,
      md5: first.md5,
      sha256: first.sha256,
      sign: first.sign,
      url: first.url,
      totalSize: files.reduce((sum, file) => sum + file.size, 0),
    }
    this.#byId.set(firmware.id, firmware)
    return firmware
  }

  /** The caller's `extData`, with the signatures and the security version when asked for. */
  #extData(
    options: AddFirmwareOptions,
    inputs: ReadonlyArray<{ name: string; data: Uint8Array }>,
  ): Record<string, unknown> | undefined {
    const extData = options.extData === undefined ? undefined : structuredClone(options.extData)
    const { signingKey, keyId, securityVersion } = options
    if (signingKey === undefined && keyId !== undefined) throw invalid('keyId needs a signingKey', 'keyId')
    if (signingKey === undefined && securityVersion === undefined) return extData
    const fields: Record<string, unknown> = { ...extData }
    if (securityVersion !== undefined) fields.securityVersion = checkSecurityVersion(securityVersion)
    if (signingKey !== undefined) {
      Object.assign(
        fields,
        signatureFields(firmwareSigner(signingKey, keyId), inputs, options.files !== undefined),
      )
    }
    return fields
  }

  /** Another node's firmware: served here under the same paths, with this node's origin in its URLs. */
  #adopt(shared: Firmware): void {
    if (this.#server.baseUrl === '') this.#server.baseUrl = this.#baseUrl()
    const files = shared.files.map((file): FirmwareFileRecord => {
      const info = { id: file.fileId, name: file.name, size: file.size, md5: file.md5, sha256: file.sha256 }
      const url = this.#server.adoptFile(info, () => this.#store.blobs.get(`firmware:${file.fileId}`))
      const query = file.url.indexOf('?')
      return { ...file, url: query < 0 ? url : `${url}${file.url.slice(query)}` }
    })
    const [first] = files
    if (first === undefined) return
    this.#byId.set(shared.id, { ...shared, files, url: first.url })
  }

  #inputs(options: AddFirmwareOptions): Array<{ name: string; data: Uint8Array }> {
    if ((options.data === undefined) === (options.files === undefined)) {
      throw invalid('give either data (one file) or files (multi-file)', 'data')
    }
    if (options.data !== undefined) {
      return [{ name: options.name ?? 'firmware.bin', data: checkData(options.data, 'data') }]
    }
    const files = options.files ?? []
    if (files.length === 0 || files.length > MAX_FILES) {
      throw invalid(`files must hold 1-${MAX_FILES} entries`, 'files')
    }
    const names = new Set(files.map((file) => file.name))
    if (names.size !== files.length) throw invalid('file names must be unique', 'files')
    return files.map((file, i) => ({ name: file.name, data: checkData(file.data, `files[${i}].data`) }))
  }

  #addFile(name: string, data: Uint8Array, signMethod: OtaSignMethod): FirmwareFileRecord {
    const info = this.#server.addFile({ data, name })
    return {
      fileId: info.id,
      name: info.name,
      size: info.size,
      md5: info.md5,
      sha256: info.sha256,
      sign: signMethod === 'Md5' ? info.md5 : info.sha256,
      url: this.#sign(info.url),
    }
  }

  /**
   * Appends an OSS-style query so the URL looks pre-signed (docs/protocol.md §3.3); the server ignores
   * it. The signature is short on purpose: 3.x parses the URL into 256-byte buffers.
   */
  #sign(url: string): string {
    const expires = Math.floor(Date.now() / 1000) + URL_LIFETIME_SECONDS
    const signature = createHmac('sha1', this.#urlKey).update(`${url}\n${expires}`).digest('base64')
    return `${url}?Expires=${expires}&Signature=${encodeURIComponent(signature)}`
  }
}
