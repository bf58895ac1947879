import { assertTopicSegment } from '@linkkit/core'
import {
  assignPresence,
  assignRecord,
  type PresenceRecord,
  presenceFields,
  recordFields,
  type StoredDevice,
} from './registry-records.js'
import { MemoryStore, type StateStore, type StateTable } from './state/store.js'
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

/** Who holds a device's presence: the connection's token, its node and, for a sub-device, its gateway. */
export interface Holder {
  token: string
  node: string
  gateway: DeviceIdentity | undefined
}

/** A change of a device's presence made by another node (scale-out): `holder` has the connection now. */
export type RemotePresenceListener = (
  state: DeviceState,
  holder: Readonly<Holder>,
  previous: Readonly<Holder> & { online: boolean },
) => void

/**
 * Products and devices of the emulated platform, with each device's live state. Records and
 * presence go to the state store (`save…`), so with scale-out every node knows every device and
 * whether, and where, it is online.
 */
export class DeviceRegistry {
  readonly #devices = new Map<string, DeviceState>()
  readonly #products = new Map<string, ProductRecord>()
  readonly #holders = new Map<string, Holder>()
  readonly #store: StateStore
  readonly #productTable: StateTable<ProductRecord>
  readonly #recordTable: StateTable<StoredDevice>
  readonly #presenceTable: StateTable<PresenceRecord>
  readonly #presenceListeners: RemotePresenceListener[] = []
  #tokens = 0

  constructor(store: StateStore = new MemoryStore()) {
    this.#store = store
    this.#productTable = store.table('products')
    this.#recordTable = store.table('devices')
    this.#presenceTable = store.table('presence')
    this.#productTable.onChange((key, value) => {
      if (value !== undefined) this.#products.set(key, { ...value })
    })
    this.#recordTable.onChange((_key, value) => {
      if (value !== undefined) assignRecord(this.#state(value), value)
    })
    this.#presenceTable.onChange((key, value) => this.#applyPresence(key, value))
  }

  addProduct(record: ProductRecord): void {
    assertTopicSegment(record.productKey, 'productKey')
    const { thingModel: _model, ...shared } = record
    this.#products.set(record.productKey, { ...record })
    this.#productTable.save(record.productKey, shared)
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
    const state = this.#state(record)
    state.deviceSecret = record.deviceSecret
    state.secretSource = record.deviceSecret === undefined ? undefined : 'preset'
    state.disabled = record.disabled ?? false
    this.saveRecord(state)
    return state
  }

  /** Hands a change of the device's secret, `disabled` or `activated` to the state store. */
  saveRecord(state: DeviceState): void {
    this.#recordTable.save(deviceKey(state.productKey, state.deviceName), recordFields(state))
  }

  /** A token for one connection (or sub-device session), unique within the platform. */
  newToken(): string {
    this.#tokens += 1
    return `${this.#store.node}:${this.#tokens}`
  }

  /**
   * Records a login: the device is online and, having used its secret, activated. `token` names
   * the connection (`newToken()`); a later login replaces it, whichever node holds it.
   */
  markOnline(
    identity: DeviceIdentity,
    clientId: string,
    clientParams: Record<string, string>,
    token: string,
    gateway?: DeviceIdentity,
  ): void {
    const state = this.get(identity.productKey, identity.deviceName)
    if (state === undefined) return
    const wasActivated = state.activated
    state.online = true
    state.activated = true
    state.clientId = clientId
    state.clientParams = { ...clientParams }
    state.connectCount++
    state.lastConnectedAt = Date.now()
    const key = deviceKey(identity.productKey, identity.deviceName)
    const holder = { token, node: this.#store.node, gateway }
    this.#holders.set(key, holder)
    if (!wasActivated) this.saveRecord(state)
    this.#presenceTable.save(key, presenceFields(state, holder), { guard: token })
  }

  /** Records a logout of the connection `token`; nothing when a newer connection holds the device. */
  markOffline(identity: DeviceIdentity, token: string): void {
    const state = this.get(identity.productKey, identity.deviceName)
    const key = deviceKey(identity.productKey, identity.deviceName)
    const holder = this.#holders.get(key)
    if (state === undefined || holder?.token !== token) return
    state.online = false
    state.lastDisconnectedAt = Date.now()
    this.#presenceTable.save(key, presenceFields(state, holder), { ifGuard: token })
  }

  /** Who holds the device's presence now (its last login), if anyone ever did. */
  holder(identity: DeviceIdentity): Readonly<Holder> | undefined {
    return this.#holders.get(deviceKey(identity.productKey, identity.deviceName))
  }

  /** Listens to presence changes other nodes make (never called on a single node). */
  onRemotePresence(listener: RemotePresenceListener): void {
    this.#presenceListeners.push(listener)
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

  /** The state of a device, created (offline, without a secret) when it is new. */
  #state(identity: DeviceIdentity): DeviceState {
    const key = deviceKey(identity.productKey, identity.deviceName)
    let state = this.#devices.get(key)
    if (state === undefined) {
      state = {
        productKey: identity.productKey,
        deviceName: identity.deviceName,
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
      this.#devices.set(key, state)
    }
    return state
  }

  #applyPresence(key: string, value: PresenceRecord | undefined): void {
    const state = this.#devices.get(key)
    if (state === undefined || value === undefined) return
    const previous = {
      token: '',
      node: '',
      gateway: undefined,
      ...this.#holders.get(key),
      online: state.online,
    }
    assignPresence(state, value)
    const { token, node, gateway } = value
    const holder = { token, node, gateway }
    this.#holders.set(key, holder)
    for (const listener of this.#presenceListeners) listener(state, holder, previous)
  }
}
