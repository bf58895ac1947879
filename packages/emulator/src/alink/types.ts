import type { LinkkitError } from '@linkkit/core'

export type { ThingModelInput } from '../tsl/load.js'

/** A property value as the platform last received it; `time` is the sample's own or the arrival time. */
export interface ReportedProperty {
  /** The value. */
  value: unknown
  /** Its time, ms since the epoch. */
  time: number
}

/** One posted event, in arrival order. */
export interface ReportedEvent {
  /** The event's identifier. */
  identifier: string
  /** The event's output params (the `value` of a wrapped post, else the params as posted). */
  value: unknown
  /** Its time, ms since the epoch. */
  time: number
}

/** A desired property value kept by the platform (docs/protocol.md §2.3 "Desired properties"). */
export interface DesiredProperty {
  /** The desired value. */
  value: unknown
  /** Starts at 1 and grows with every `setDesired` of the identifier. */
  version: number
  /** When it was set, ms since the epoch. */
  time: number
}

/** Bytes a device sent on `thing/model/up_raw`. */
export interface RawUplink {
  /** The bytes. */
  payload: Uint8Array
  /** Arrival time, ms since the epoch. */
  time: number
}

/** What the emulator keeps of a device's thing-model traffic; part of `emu.device()`. */
export interface DeviceThingState {
  /** Latest reported value of each property. */
  properties: Record<string, ReportedProperty>
  /** Posted events, oldest first, the last 1000. */
  events: ReportedEvent[]
  /** Desired values with their versions. */
  desired: Record<string, DesiredProperty>
  /** Device tags (`thing.deviceinfo.update`), attrKey → attrValue. */
  tags: Record<string, string>
  /** Raw uplinks, oldest first, the last 100. */
  rawUp: RawUplink[]
}

/** A device's answer to a downlink request. `code` 200 is success; other codes resolve too. */
export interface DeviceReply {
  /** The id of the request. */
  id: string
  /** The device's reply code (200 for success). */
  code: number
  /** The reply's data. */
  data: unknown
  /** The reply's message, if any. */
  message?: string
}

/** Options of the emulator's downlink requests. */
export interface DownlinkOptions {
  /** How long to wait for the device's reply. @default 5000 */
  timeoutMs?: number
}

/** Options of `emu.pushConfig`. */
export interface ConfigPushOptions extends DownlinkOptions {
  /**
   * Wait for the device's `push_reply`. The C SDK 3.x answers a config push only when it cannot
   * parse it: on success it downloads the file and says nothing (docs/protocol.md). With `false`,
   * `pushConfig` resolves with the push's `{ id }` once it is published. @default true
   */
  awaitReply?: boolean
}

/** What `emu.pushConfig(…, { awaitReply: false })` resolves with once the push is published. */
export interface ConfigPushSent {
  /** The Alink id of the push; a `push_reply` the device may send later carries it. */
  id: string
}

/** Options of `emu.invokeService`. */
export interface InvokeServiceOptions extends DownlinkOptions {
  /** Invoke over RRPC. @default the service's TSL `callType` is `sync`; false without a TSL */
  sync?: boolean
  /**
   * RRPC form of a sync call (docs/protocol.md §1.5): `ext` is `/ext/rrpc/<id>/sys/..`, `legacy` is
   * `/sys/../rrpc/request/<id>`. @default `ext` when the device's clientId has `ext` bit0 set
   */
  rrpc?: 'legacy' | 'ext'
}

/** A product's remote configuration file (COTA). */
export interface ConfigFile {
  /** The configuration's id. */
  configId: string
  /** The file's bytes. */
  data: Uint8Array
}

/** The `thing.config.get` reply data and `thing.config.push` params (docs/protocol.md §2.3). */
export interface ConfigPushParams {
  /** The configuration's id. */
  configId: string
  /** File size in bytes. */
  configSize: number
  /** Lowercase hex SHA-256 of the file. */
  sign: string
  /** Always `Sha256`, the spelling 3.x needs (docs/protocol.md §4.4). */
  signMethod: 'Sha256'
  /** Where the emulator serves the file. */
  url: string
  /** Always `file`. */
  getType: 'file'
}

/** A notice on `/ext/error/${pk}/${dn}`. */
export interface CloudErrorParams {
  /** The error code. */
  code: number
  /** Its message. */
  message?: string
  /** Any data to send along. */
  data?: unknown
}

/**
 * Answers a raw uplink: bytes to publish on `up_raw_reply`, or undefined for no reply. Without
 * a handler the emulator echoes the uplink.
 */
export type RawUpHandler = (
  payload: Buffer,
  device: { productKey: string; deviceName: string },
) => Uint8Array | undefined

/** Payload of `alink:invalid`: values the platform refused or dropped from an uplink. */
export interface AlinkInvalidInfo {
  /** The device's product key. */
  productKey: string
  /** The device's name. */
  deviceName: string
  /** The uplink's topic. */
  topic: string
  /** The reply code sent (200 when invalid properties were dropped from an accepted post). */
  code: number
  /**
   * One error per refused or dropped value: `ERR_TSL_VALIDATION` or `ERR_TSL_UNKNOWN_IDENTIFIER`
   * whose `details` hold `identifier` (a path such as `RGBColor.Red`), `rule`, `expected`,
   * `actual` and `platformCode`, the platform's code for it (docs/protocol.md §2.4).
   */
  errors: LinkkitError[]
}
