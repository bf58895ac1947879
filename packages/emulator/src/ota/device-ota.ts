import { type DeviceRegistry, deviceKey } from '../registry.js'
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

/**
 * Per-device OTA records, keyed on the pk/dn of the topic (a gateway carries its sub-devices'
 * topics, so the publisher's own identity is never used). The records are attached to the
 * registry's device state, which is how `emu.device(pk, dn)` shows `version`, `versions` and `ota`.
 */
export class DeviceOtaRecords {
  readonly #registry: DeviceRegistry
  readonly #devices = new Map<string, DeviceOta>()

  constructor(registry: DeviceRegistry) {
    this.#registry = registry
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
    if (entry.valid && entry.version !== undefined) device.versions[entry.module] = entry.version
    this.#attach(device)
  }

  recordProgress(device: DeviceOta, entry: OtaProgressEntry): void {
    push(device.ota.progress, entry, MAX_PROGRESS)
  }

  #attach(device: DeviceOta): void {
    const state = this.#registry.get(device.productKey, device.deviceName)
    if (state === undefined) return
    state.version = device.versions[DEFAULT_MODULE]
    state.versions = device.versions
    state.ota = device.ota
  }
}

function push<T>(list: T[], entry: T, max: number): void {
  list.push(entry)
  if (list.length > max) list.splice(0, list.length - max)
}
