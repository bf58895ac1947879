import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import type { DeviceRecord, ProductRecord, ThingModelInput } from '@linkkit/emulator'
import { UsageError } from './errors.js'

/** What `linkkit emulator --config` reads: the platform's products and devices, and optionally its ports and URLs. */
export interface EmulatorConfig {
  products: ProductRecord[]
  devices: DeviceRecord[]
  mqttPort: number | undefined
  httpPort: number | undefined
  host: string | undefined
  /** Public base URL of the firmware server (`firmwareBaseUrl` of `Emulator.start`). */
  firmwareBaseUrl: string | undefined
}

type Json = Record<string, unknown>

/**
 * Reads and checks the config file. A product's `thingModel` is a TSL document or the path of one,
 * relative to the config file. Every problem is a UsageError naming the file and the field.
 */
export async function loadEmulatorConfig(path: string): Promise<EmulatorConfig> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new UsageError(`cannot read --config ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (error) {
    throw new UsageError(`--config ${path} is not valid JSON: ${(error as Error).message}`)
  }
  const fail = (field: string, rule: string) => new UsageError(`--config ${path}: ${field} ${rule}`)
  const root = object(doc, 'the file', fail)
  known(
    root,
    ['products', 'devices', 'mqttPort', 'httpPort', 'host', 'firmwareBaseUrl', '$schema'],
    'the file',
    fail,
  )
  const products = list(root.products, 'products', fail).map((item, i) => {
    const at = `products[${i}]`
    const p = object(item, at, fail)
    known(p, ['productKey', 'productSecret', 'dynamicRegistration', 'nodeType', 'thingModel'], at, fail)
    const record: ProductRecord = { productKey: text1(p.productKey, `${at}.productKey`, fail) }
    if (p.productSecret !== undefined)
      record.productSecret = text1(p.productSecret, `${at}.productSecret`, fail)
    if (p.dynamicRegistration !== undefined) {
      if (typeof p.dynamicRegistration !== 'boolean')
        throw fail(`${at}.dynamicRegistration`, 'must be true or false')
      record.dynamicRegistration = p.dynamicRegistration
    }
    if (p.nodeType !== undefined) {
      if (p.nodeType !== 'device' && p.nodeType !== 'gateway')
        throw fail(`${at}.nodeType`, 'must be "device" or "gateway"')
      record.nodeType = p.nodeType
    }
    if (p.thingModel !== undefined)
      record.thingModel = thingModel(p.thingModel, dirname(path), `${at}.thingModel`, fail)
    return record
  })
  const devices = list(root.devices, 'devices', fail).map((item, i) => {
    const at = `devices[${i}]`
    const d = object(item, at, fail)
    known(d, ['productKey', 'deviceName', 'deviceSecret', 'disabled'], at, fail)
    const record: DeviceRecord = {
      productKey: text1(d.productKey, `${at}.productKey`, fail),
      deviceName: text1(d.deviceName, `${at}.deviceName`, fail),
    }
    if (d.deviceSecret !== undefined) record.deviceSecret = text1(d.deviceSecret, `${at}.deviceSecret`, fail)
    if (d.disabled !== undefined) record.disabled = d.disabled === true
    return record
  })
  return {
    products,
    devices,
    mqttPort: port(root.mqttPort, 'mqttPort', fail),
    httpPort: port(root.httpPort, 'httpPort', fail),
    host: root.host === undefined ? undefined : text1(root.host, 'host', fail),
    firmwareBaseUrl:
      root.firmwareBaseUrl === undefined ? undefined : text1(root.firmwareBaseUrl, 'firmwareBaseUrl', fail),
  }
}

type Fail = (field: string, rule: string) => UsageError

function object(value: unknown, field: string, fail: Fail): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw fail(field, 'must be a JSON object')
  return value as Json
}

function list(value: unknown, field: string, fail: Fail): unknown[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) throw fail(field, 'must be an array')
  return value
}

function known(value: Json, keys: readonly string[], field: string, fail: Fail): void {
  const unknown = Object.keys(value).find((key) => !keys.includes(key))
  if (unknown !== undefined)
    throw fail(field, `has an unknown field "${unknown}" (known: ${keys.join(', ')})`)
}

function text1(value: unknown, field: string, fail: Fail): string {
  if (typeof value !== 'string' || value.length === 0) throw fail(field, 'must be a non-empty string')
  return value
}

function port(value: unknown, field: string, fail: Fail): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65_535) {
    throw fail(field, 'must be a port number from 0 to 65535')
  }
  return value
}

function thingModel(value: unknown, base: string, field: string, fail: Fail): ThingModelInput {
  if (typeof value === 'string' && value.length > 0) return resolve(base, value)
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as ThingModelInput
  throw fail(field, 'must be a TSL document or the path of one')
}
