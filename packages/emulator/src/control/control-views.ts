import type { Firmware, FirmwareFileRecord } from '../ota/types.js'
import type { DeviceSnapshot } from '../types.js'

/** One line of `GET /control/devices`. The device secret is never sent, only whether there is one. */
export interface ControlDeviceSummary {
  /** The product key. */
  productKey: string
  /** The device name. */
  deviceName: string
  /** Connected now. */
  online: boolean
  /** Has logged in with its secret at least once. */
  activated: boolean
  /** Refused at CONNECT. */
  disabled: boolean
  /** Whether the platform holds a secret for it (the secret itself is never sent). */
  hasSecret: boolean
  /** The default module's reported version. */
  version: string | undefined
  /** Successful CONNECTs so far. */
  connectCount: number
  /** Last connect time, ms since the epoch. */
  lastConnectedAt: number | undefined
  /** Last disconnect time, ms since the epoch. */
  lastDisconnectedAt: number | undefined
}

/** `GET /control/devices/:pk/:dn`: the snapshot without the secret, raw uplinks in base64. */
export type ControlDeviceView = Omit<DeviceSnapshot, 'deviceSecret' | 'rawUp'> & {
  /** Whether the platform holds a secret for it. */
  hasSecret: boolean
  /** Raw uplinks, their bytes in base64. */
  rawUp?: Array<{
    /** The bytes, in base64. */
    payloadBase64: string
    /** Arrival time, ms since the epoch. */
    time: number
  }>
}

export function deviceSummary(snapshot: DeviceSnapshot): ControlDeviceSummary {
  return {
    productKey: snapshot.productKey,
    deviceName: snapshot.deviceName,
    online: snapshot.online,
    activated: snapshot.activated,
    disabled: snapshot.disabled,
    hasSecret: snapshot.deviceSecret !== undefined,
    version: snapshot.version,
    connectCount: snapshot.connectCount,
    lastConnectedAt: snapshot.lastConnectedAt,
    lastDisconnectedAt: snapshot.lastDisconnectedAt,
  }
}

export function deviceView(snapshot: DeviceSnapshot): ControlDeviceView {
  const { deviceSecret, rawUp, ...rest } = snapshot
  const view: ControlDeviceView = { ...rest, hasSecret: deviceSecret !== undefined }
  if (rawUp !== undefined) {
    view.rawUp = rawUp.map((r) => ({
      payloadBase64: Buffer.from(r.payload).toString('base64'),
      time: r.time,
    }))
  }
  return view
}

/**
 * A firmware record with its URLs cut at the query: the `?Expires=..&Signature=..` part stands for
 * an OSS pre-signed URL, a credential that is not echoed (the firmware server ignores the query).
 */
export function firmwareView(firmware: Firmware): Firmware {
  return {
    ...firmware,
    url: withoutQuery(firmware.url),
    files: firmware.files.map((file): FirmwareFileRecord => ({ ...file, url: withoutQuery(file.url) })),
  }
}

function withoutQuery(url: string): string {
  const at = url.indexOf('?')
  return at < 0 ? url : url.slice(0, at)
}
