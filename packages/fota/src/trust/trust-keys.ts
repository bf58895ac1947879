import { createPublicKey, type KeyObject } from 'node:crypto'
import { booleanOption, invalidOption, refusedOption } from '@linkkit/core'
import { defaultDigestWorker } from './stream-digest.js'

/** The signature algorithms of a firmware image, as `extData.signatureAlgorithm` names them. */
export type SignatureAlgorithm = 'ed25519' | 'ecdsa-p256'

/**
 * The keys a device trusts to sign its firmware (`firmware.trust`, and per module). With keys
 * configured, every image must carry a valid signature by one of them (docs/ota.md, "Trust").
 */
export interface FirmwareTrust {
  /**
   * Public keys by key id: a `KeyObject` or a PEM string (SPKI, `-----BEGIN PUBLIC KEY-----`).
   * Ed25519 and ECDSA P-256 keys are accepted; an offer names its key in
   * `extData.signatureKeyId`. Several ids let keys rotate: sign with the new one once every
   * device trusts it. A private key is refused: a device needs the public half only.
   */
  keys: Readonly<Record<string, KeyObject | string>>
  /**
   * Where an MD5 offer's SHA-256 (the signed message) is computed: on a worker thread beside the
   * download (`true`: about 12 MiB more peak memory, nearly no time), or on the download's own
   * thread (`false`: no extra memory, about a tenth more CPU time on that thread). A SHA256 offer
   * needs neither: its digest is the signed message (docs/performance.md, "FOTA download").
   * @default true when the machine has more than one core
   */
  digestWorker?: boolean
}

/** One trusted key, checked. */
export interface TrustedKey {
  readonly id: string
  readonly algorithm: SignatureAlgorithm
  readonly key: KeyObject
}

/** Key ids are printable, 1–64 characters: they travel in `extData` and appear in `desc`. */
const KEY_ID = /^[\x21-\x7e]{1,64}$/

function algorithmOf(key: KeyObject): SignatureAlgorithm | undefined {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519'
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1')
    return 'ecdsa-p256'
  return undefined
}

function publicKeyOf(value: unknown, field: string): KeyObject {
  if (typeof value === 'string') {
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(value)) {
      throw refusedOption(field, 'is a private key: give the device the public key only')
    }
    try {
      return createPublicKey(value)
    } catch {
      throw refusedOption(field, 'is not a PEM public key')
    }
  }
  if (typeof value === 'object' && value !== null && 'type' in value && 'asymmetricKeyType' in value) {
    const key = value as KeyObject
    if (key.type === 'private') {
      throw refusedOption(field, 'is a private key: give the device the public key only')
    }
    if (key.type === 'public') return key
  }
  throw invalidOption(field, 'a public KeyObject or a PEM string')
}

/**
 * The trusted keys of one module, validated once at `open()`: each is a public Ed25519 or
 * P-256 key under a printable id. Throws `ERR_INVALID_OPTIONS` naming the bad entry.
 */
export class TrustKeys {
  readonly #keys: ReadonlyMap<string, TrustedKey>
  /** Whether an MD5 offer's SHA-256 runs on a worker thread (`FirmwareTrust.digestWorker`). */
  readonly digestWorker: boolean

  constructor(trust: FirmwareTrust, field = 'firmware.trust') {
    if (
      typeof trust !== 'object' ||
      trust === null ||
      typeof trust.keys !== 'object' ||
      trust.keys === null
    ) {
      throw invalidOption(field, '{ keys: { [keyId]: publicKey } }')
    }
    const keys = new Map<string, TrustedKey>()
    for (const [id, value] of Object.entries(trust.keys)) {
      const name = `${field}.keys[${JSON.stringify(id.slice(0, 70))}]`
      if (!KEY_ID.test(id)) throw invalidOption(name, 'under a key id of 1–64 printable characters')
      const key = publicKeyOf(value, name)
      const algorithm = algorithmOf(key)
      if (algorithm === undefined) throw invalidOption(name, 'an Ed25519 or P-256 public key')
      keys.set(id, Object.freeze({ id, algorithm, key }))
    }
    if (keys.size === 0)
      throw refusedOption(`${field}.keys`, 'is empty: give at least one key, or leave trust out')
    this.#keys = keys
    this.digestWorker = booleanOption(trust.digestWorker, `${field}.digestWorker`, defaultDigestWorker())
  }

  /** The key named `id`, when trusted. */
  get(id: string): TrustedKey | undefined {
    return this.#keys.get(id)
  }

  /** The trusted key ids, for messages. */
  ids(): string[] {
    return [...this.#keys.keys()]
  }
}
