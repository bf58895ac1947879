import { assertTopicSegment } from '@linkkit/core'
import type { DeviceIdentity, DeviceRecord, DeviceSnapshot, ProductRecord } from './types.js'

/**
 * The mutable record behind `emu.device()`. Later parts of the emulator (thing model, OTA) add
 * their fields here; `snapshot()` copies whatever it holds.
 */
export interface DeviceState extends DeviceSnapshot {
  /** Where the secret came from: given by the caller, or issued by dynamic registration. */
  secretSource: 'preset' | 'registered' | undefined
}

export function deviceKey(productKey: string, deviceName: string): string {
  return `${productKey}/${deviceName}`
}

/** Products and devices of the emulated platform, with each device's live state. */
export class DeviceRegistry {
  readonly #devices = new Map<string, DeviceState>()
  readonly #products = new Map<string, ProductRecord>()

  addProduct(record: ProductRecord): void {
    assertTopicSegment(record.productKey, 'productKey')
    this.#products.set(record.productKey, { ...record })
  }

  product(productKey: string): ProductRecord | undefined {
    return this.#products.get(productKey)
  }

  /** Whether the device belongs to a product whose node type is `'gateway'`. */
  isGateway(identity: DeviceIdentity): boolean {
    return this.#products.get(identity.productKey)?.nodeType === 'gateway'
  }

  /** Adds a device, or replaces the record of a known one while keeping its connection history. */
  addDevice(record: DeviceRecord): DeviceState {
    assertTopicSegment(record.productKey, 'productKey')
    assertTopicSegment(record.deviceName, 'deviceName')
    const key = deviceKey(record.productKey, record.deviceName)
    const existing = this.#devices.get(key)
    const state: DeviceState = existing ?? {
      productKey: record.productKey,
      deviceName: record.deviceName,
      deviceSecret: undefined,
      secretSource: undefined,
      disabled: false,
      activated: false,
      online: false,
      clientId: undefined,
      clientParams: {},
      connectCount: 0,
      lastConnectedAt: undefined,
      lastDisconnectedAt: undefined,
    }
    state.deviceSecret = record.deviceSecret
    state.secretSource = record.deviceSecret === undefined ? undefined : 'preset'
    state.disabled = record.disabled ?? false
    this.#devices.set(key, state)
    return state
  }

  /** Records a login: the device is online and, having used its secret, activated. */
  markOnline(identity: DeviceIdentity, clientId: string, clientParams: Record<string, string>): void {
    const state = this.get(identity.productKey, identity.deviceName)
    if (state === undefined) return
    state.online = true
    state.activated = true
    state.clientId = clientId
    state.clientParams = { ...clientParams }
    state.connectCount++
    state.lastConnectedAt = Date.now()
  }

  markOffline(identity: DeviceIdentity): void {
    const state = this.get(identity.productKey, identity.deviceName)
    if (state === undefined) return
    state.online = false
    state.lastDisconnectedAt = Date.now()
  }

  get(productKey: string, deviceName: string): DeviceState | undefined {
    return this.#devices.get(deviceKey(productKey, deviceName))
  }

  snapshot(identity: DeviceIdentity): DeviceSnapshot | undefined {
    const state = this.get(identity.productKey, identity.deviceName)
    if (state === undefined) return undefined
    const { secretSource: _, ...rest } = state
    return structuredClone(rest)
  }

  all(): IterableIterator<DeviceState> {
    return this.#devices.values()
  }
}
