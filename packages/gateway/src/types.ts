import type { DeviceIdentity, LinkkitError, LoggerOption, RegisteredDevice, SignMethod } from '@linkkit/core'
import type {
  ConfigOffer,
  FirmwareOffer,
  FotaDeferral,
  FotaOptions,
  FotaProgress,
  FotaRollback,
} from '@linkkit/fota'
import type { ThingClientEvents, ThingModel, ThingModelSource } from '@linkkit/thing-model'

/**
 * The events of a device whether it is connected directly (`Device`) or behind a gateway
 * (`SubDevice`): what its thing-model and OTA clients report, passed on by the device. A listener
 * that throws is logged and cannot break the session.
 */
export interface CommonDeviceEvents {
  /** Something went wrong that no promise could report: a malformed inbound message, a refused offer… Without a listener it is printed once per code as a `LinkkitWarning` (docs/errors.md). */
  error: (error: LinkkitError) => void
  /** The cloud offers firmware (ITE_FOTA / ITE_FOTA_MODULE); call `device.fota.download(offer)`. */
  fota: (offer: FirmwareOffer) => void
  /** Local download progress (bytes, total, percent). */
  'fota:progress': (progress: FotaProgress) => void
  /** `firmware.policy` held a download or an activation back; it is taken again at `retryAt`. */
  'fota:deferred': (deferral: FotaDeferral) => void
  /** The image on trial missed its confirm deadline (`firmware.confirmWithinMs`) and was rolled back: restart. */
  'fota:rollback': (rollback: FotaRollback) => void
  /** The cloud set properties (ITE_PROPERTY_SET). */
  'property:set': ThingClientEvents['property:set']
  /** The cloud invoked a service (ITE_SERVICE_REQUEST). */
  service: ThingClientEvents['service']
  /** A remote configuration is offered (ITE_COTA). */
  config: (offer: ConfigOffer) => void
  /** Every inbound MQTT message of the device, raw. */
  message: (topic: string, payload: Buffer) => void
}

/** Options of `gateway.subdevices.open()`. Only the identity is required. */
export interface SubDeviceOptions {
  /** The sub-device's product key. */
  productKey: string
  /** The sub-device's name. */
  deviceName: string
  /**
   * The sub-device's secret. Without it `connect()` registers the sub-device first: with
   * `productSecret` through `thing.proxy.provisioning.product_register`, else through
   * `thing.sub.register` (a sub-device pre-registered on the platform).
   */
  deviceSecret?: string
  /** The sub-device product's secret, for product-level registration. */
  productSecret?: string
  /** The thing model (TSL) as an object, a compiled ThingModel or a path to a JSON file; enables validation. */
  thingModel?: ThingModelSource | ThingModel
  /** Firmware version, persistence adapter and OTA policy of the sub-device. */
  firmware?: FotaOptions
  /** HMAC of the topology add and login signatures. @default 'hmacsha256' */
  signMethod?: SignMethod
  /** Login `cleanSession`: the platform drops QoS 1 messages held while the sub-device was offline. @default true */
  cleanSession?: boolean
}

/** Options of the sub-device manager of one gateway. */
export interface SubDevicesOptions {
  /**
   * How long a login, topology add or registration waits for others to share its message
   * (`combine.batch_login` and friends). @default 10
   */
  batchWindowMs?: number
  /** A pino logger or a level. Silent by default. */
  logger?: LoggerOption
  /** Clock of the signing timestamps. @default Date.now */
  now?: () => number
}

/**
 * `idle` (not logged in), `connecting`, `online` (logged in), `reconnecting` (the gateway's link
 * dropped or a re-login is on its way), `disabled` / `deleted` by the platform, `closed`.
 */
export type SubDeviceState =
  | 'idle'
  | 'connecting'
  | 'online'
  | 'reconnecting'
  | 'disabled'
  | 'deleted'
  | 'closed'

/** Why a sub-device went offline. */
export type OfflineReason =
  | 'logout'
  | 'gateway'
  | 'disabled'
  | 'deleted'
  | 'topology'
  | 'session-lost'
  | 'closed'

/** Events of a `SubDevice`: those of every device, plus what the platform tells its gateway about it. */
export interface SubDeviceEvents extends CommonDeviceEvents {
  /** Logged in; `reconnect` is true for the re-login after the gateway reconnected. */
  connected: (info: { reconnect: boolean }) => void
  /** Logged out or offline; `reason` says why. */
  disconnected: (info: { reason: OfflineReason; error?: LinkkitError }) => void
  /** Registration gave the sub-device its secret: store it. */
  registered: (device: RegisteredDevice) => void
  /** The platform disabled the sub-device (`thing.disable`); it was logged out. */
  disabled: () => void
  /** The platform enabled it again (`thing.enable`). */
  enabled: () => void
  /** The platform deleted it (`thing.delete`). */
  deleted: () => void
}

/** `thing.topo.change` status: 0 created, 1 deleted, 2 enabled, 8 disabled; anything else `unknown`. */
export type TopoChangeKind = 'created' | 'deleted' | 'enabled' | 'disabled' | 'unknown'

/** A topology change the platform announced. */
export interface TopoChange {
  /** What changed. */
  kind: TopoChangeKind
  /** The raw status code. */
  status: number | undefined
  /** The sub-devices concerned. */
  subDevices: DeviceIdentity[]
}

/** The platform lets the gateway accept new sub-devices for a while. */
export interface PermitJoin {
  /** The product whose sub-devices may join; undefined for any. */
  productKey: string | undefined
  /** How long the gateway may accept new sub-devices. */
  timeSeconds: number
}

/** What the platform did to a sub-device. */
export type SubDeviceNotice = 'disable' | 'enable' | 'delete'

/** Events of `gateway.subdevices`. */
export interface SubDevicesEvents {
  /** The platform changed the gateway's topology (`thing.topo.change`). */
  'topo:change': (change: TopoChange) => void
  /** The platform allows new sub-devices to join for a while (`thing.gateway.permit`). */
  permit: (permit: PermitJoin) => void
  /** The platform asks the gateway to add these sub-devices (`thing.topo.add.notify`). */
  'topo:add': (subDevices: DeviceIdentity[]) => void
  /** A sub-device was disabled, enabled or deleted on the platform (opened here or not). */
  'subdevice:notice': (info: DeviceIdentity & { notice: SubDeviceNotice }) => void
  /** After the gateway reconnected: how many sub-devices are logged in again, and which failed. */
  relogin: (result: { loggedIn: number; failed: Array<DeviceIdentity & { error: LinkkitError }> }) => void
  /** Failed re-logins, malformed notices and the like. Without a listener it is printed once per code as a `LinkkitWarning` (docs/errors.md). */
  error: (error: LinkkitError) => void
}
