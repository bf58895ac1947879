import { readFile } from 'node:fs/promises'
import {
  assertTopicSegment,
  integerRule,
  LinkkitError,
  registerDevice,
  requireOption,
  type TlsOptions,
} from '@linkkit/core'

/** One device's identity: the triple from the console (or the emulator). */
export interface DeviceTriple {
  /** The product key. */
  productKey: string
  /** The device name. */
  deviceName: string
  /** The device secret; never logged or put in an error. */
  deviceSecret: string
}

function invalid(path: string, where: string, rule: string): LinkkitError {
  return new LinkkitError('ERR_INVALID_OPTIONS', `${path}: ${where} ${rule}`)
}

/**
 * Reads device triples from a file: a JSON array of `{ productKey, deviceName, deviceSecret }`,
 * an emulator config file (`{ "devices": [...] }`, as `linkkit emulator --config` reads; devices
 * without a secret are skipped), or text with one `productKey,deviceName,deviceSecret` a line
 * (blank lines and `#` comments skipped). Rejects ERR_INVALID_OPTIONS naming the entry or line at
 * fault, never the secret.
 */
export async function readTriples(path: string): Promise<DeviceTriple[]> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error'
    throw new LinkkitError('ERR_INVALID_OPTIONS', `cannot read the triples file ${path} (${code})`)
  }
  const trimmed = text.trimStart()
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) return jsonTriples(path, trimmed)
  const triples: DeviceTriple[] = []
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const fields = line.split(',').map((f) => f.trim())
    if (fields.length !== 3 || fields.some((f) => f === '')) {
      throw invalid(path, `line ${i + 1}`, 'is not productKey,deviceName,deviceSecret')
    }
    const [productKey, deviceName, deviceSecret] = fields as [string, string, string]
    triples.push({ productKey, deviceName, deviceSecret })
  })
  return checked(path, triples)
}

function jsonTriples(path: string, text: string): DeviceTriple[] {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (error) {
    throw invalid(path, 'the file', `is not valid JSON (${(error as Error).message})`)
  }
  const fromConfig = !Array.isArray(doc)
  const list = fromConfig ? (doc as { devices?: unknown }).devices : doc
  if (!Array.isArray(list))
    throw invalid(path, 'the file', 'is neither an array of triples nor has "devices"')
  const triples: DeviceTriple[] = []
  list.forEach((item: unknown, i) => {
    const entry = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>
    if (fromConfig && entry.deviceSecret === undefined) return
    const field = (name: string): string => {
      const value = entry[name]
      if (typeof value !== 'string' || value.length === 0) {
        throw invalid(path, `entry ${i}`, `needs a non-empty string ${name}`)
      }
      return value
    }
    triples.push({
      productKey: field('productKey'),
      deviceName: field('deviceName'),
      deviceSecret: field('deviceSecret'),
    })
  })
  return checked(path, triples)
}

function checked(path: string, triples: DeviceTriple[]): DeviceTriple[] {
  if (triples.length === 0) throw invalid(path, 'the file', 'holds no device triple')
  const seen = new Set<string>()
  for (const t of triples) {
    const key = `${t.productKey}/${t.deviceName}`
    if (seen.has(key)) throw invalid(path, `device ${key}`, 'appears twice')
    seen.add(key)
  }
  return triples
}

/** Options of `registerDevices`. */
export interface RegisterDevicesOptions {
  /** The platform's registration base URL, e.g. the emulator's `httpUrl`. */
  registerUrl: string
  /** A product that allows dynamic registration. */
  productKey: string
  /** Its product secret; never logged. */
  productSecret: string
  /** How many devices. */
  count: number
  /** Device names are `${prefix}${i}`, i from 0. @default 'fleet-' */
  prefix?: string
  /** Registrations in flight at once. @default 20 */
  concurrency?: number
  /** Accept a plain `http://` registerUrl (the emulator serves http). @default false */
  allowHttp?: boolean
  /** TLS settings for an https registerUrl. */
  tls?: TlsOptions
  /** Stops registering; the call then rejects with ERR_ABORTED. */
  signal?: AbortSignal
}

/**
 * Registers `count` new devices by dynamic registration ("one product one secret", the
 * emulator's `/auth/register/device`) and returns their triples, in order.
 */
export async function registerDevices(options: RegisterDevicesOptions): Promise<DeviceTriple[]> {
  const count = requireOption(options.count, 'count', integerRule({ min: 1 }))
  const prefix = options.prefix ?? 'fleet-'
  const concurrency = options.concurrency ?? 20
  const triples = new Array<DeviceTriple>(count)
  let next = 0
  const worker = async () => {
    while (next < count) {
      const i = next++
      const registered = await registerDevice({
        productKey: options.productKey,
        deviceName: `${prefix}${i}`,
        productSecret: options.productSecret,
        registerUrl: options.registerUrl,
        allowHttp: options.allowHttp === true,
        ...(options.tls ? { tls: options.tls } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      })
      triples[i] = registered
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
  return triples
}

/**
 * The fleet's triples, from `devices` or read from `triplesFile`, each checked: ERR_INVALID_OPTIONS
 * when there are none or one has no secret, ERR_INVALID_TOPIC_VALUE for a bad product key or name.
 */
export async function fleetTriples(options: {
  devices?: readonly DeviceTriple[] | undefined
  triplesFile?: string | undefined
}): Promise<readonly DeviceTriple[]> {
  const triples =
    options.devices ??
    (options.triplesFile === undefined ? undefined : await readTriples(options.triplesFile))
  if (triples === undefined || triples.length === 0) {
    throw new LinkkitError('ERR_INVALID_OPTIONS', 'give devices (triples) or a triplesFile')
  }
  for (const t of triples) {
    assertTopicSegment(t.productKey, 'productKey')
    assertTopicSegment(t.deviceName, 'deviceName')
    if (typeof t.deviceSecret !== 'string' || t.deviceSecret.length === 0) {
      throw new LinkkitError(
        'ERR_INVALID_OPTIONS',
        `device ${t.productKey}/${t.deviceName} has no deviceSecret`,
      )
    }
  }
  return triples
}
