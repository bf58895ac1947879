import { type DeviceRegistry, deviceKey } from '../registry.js'
import { MemoryStore, type StateLog, type StateStore, type StateTable } from '../state/store.js'
import {
  DEFAULT_MODULE,
  type DeviceOtaSnapshot,
  type OtaDeviceRef,
  type OtaInformEntry,
  type OtaProgressEntry,
} from './types.js'

/** Histories are bounded so a chatty device cannot grow the emulator without limit. */
const MAX_PROGRESS = 1000
const MAX_INFORMS = 200

/** What the OTA service knows about one device: reported versions and its OTA history. */
export interface DeviceOta extends OtaDeviceRef {
  /** Reported version per module, from `/ota/device/inform`. */
  versions: Record<string, string>
  ota: DeviceOtaSnapshot
}

/** Progress and informs another node received (scale-out). */
export interface RemoteOtaListener {
  progress(device: OtaDeviceRef, entry: OtaProgressEntry): void
  inform(device: OtaDeviceRef, entry: OtaInformEntry): void
}

/**
 * Per-device OTA records, keyed on the pk/dn of the topic (a gateway carries its sub-devices'
 * topics, so the publisher's own identity is never used). The records are attached to the
 * registry's device state, which is how `emu.device(pk, dn)` shows `version`, `versions` and `ota`.
 * Versions and histories go to the state store; what other nodes record comes back here.
 */
export class DeviceOtaRecords {
  readonly #registry: DeviceRegistry
  readonly #devices = new Map<string, DeviceOta>()
  readonly #versions: StateTable<Record<string, string>>
  readonly #progress: StateLog<OtaProgressEntry>
  readonly #informs: StateLog<OtaInformEntry>

  constructor(registry: DeviceRegistry, store: StateStore = new MemoryStore()) {
    this.#registry = registry
    this.#versions = store.table('ota-versions')
    this.#progress = store.log('ota-progress', MAX_PROGRESS)
    this.#informs = store.log('ota-informs', MAX_INFORMS)
    this.#versions.onChange((key, versions) => {
      const device = this.#byKey(key)
      if (device === undefined) return
      for (const module of Object.keys(device.versions)) delete device.versions[module]
      Object.assign(device.versions, versions)
      this.#attach(device)
    })
  }

  /** Applies what other nodes record to `listener` as well as to the records. */
  follow(listener: RemoteOtaListener): void {
    this.#progress.onAppend((key, entry) => {
      const device = this.#byKey(key)
      if (device === undefined) return
      push(device.ota.progress, entry, MAX_PROGRESS)
      listener.progress(ref(device), entry)
    })
    this.#informs.onAppend((key, entry) => {
      const device = this.#byKey(key)
      if (device === undefined) return
      push(device.ota.informs, entry, MAX_INFORMS)
      listener.inform(ref(device), entry)
    })
  }

  /** The device's record, created on first use, and (re)attached to its registry state. */
  get(ref: OtaDeviceRef): DeviceOta {
    const key = deviceKey(ref.productKey, ref.deviceName)
    let device = this.#devices.get(key)
    if (device === undefined) {
      device = {
        productKey: ref.productKey,
        deviceName: ref.deviceName,
        versions: {},
        ota: { jobs: [], progress: [], informs: [] },
      }
      this.#devices.set(key, device)
    }
    this.#attach(device)
    return device
  }

  version(ref: OtaDeviceRef, module: string): string | undefined {
    return this.#devices.get(deviceKey(ref.productKey, ref.deviceName))?.versions[module]
  }

  recordInform(device: DeviceOta, entry: OtaInformEntry): void {
    push(device.ota.informs, entry, MAX_INFORMS)
    const key = deviceKey(device.productKey, device.deviceName)
    this.#informs.append(key, entry)
    if (entry.valid && entry.version !== undefined) {
      device.versions[entry.module] = entry.version
      this.#versions.save(key, device.versions)
    }
    this.#attach(device)
  }

  recordProgress(device: DeviceOta, entry: OtaProgressEntry): void {
    push(device.ota.progress, entry, MAX_PROGRESS)
    this.#progress.append(deviceKey(device.productKey, device.deviceName), entry)
  }

  /** The record of `pk/dn` for another node's change; undefined for a device this node does not know. */
  #byKey(key: string): DeviceOta | undefined {
    const at = key.indexOf('/')
    const productKey = key.slice(0, at)
    const deviceName = key.slice(at + 1)
    if (this.#registry.get(productKey, deviceName) === undefined) return undefined
    return this.get({ productKey, deviceName })
  }

  #attach(device: DeviceOta): void {
    const state = this.#registry.get(device.productKey, device.deviceName)
    if (state === undefined) return
    state.version = device.versions[DEFAULT_MODULE]
    state.versions = device.versions
    state.ota = device.ota
  }
}

function ref(device: DeviceOta): OtaDeviceRef {
  return { productKey: device.productKey, deviceName: device.deviceName }
}

function push<T>(list: T[], entry: T, max: number): void {
  list.push(entry)
  if (list.length > max) list.splice(0, list.length - max)
}
