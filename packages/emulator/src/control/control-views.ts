import type { Firmware, FirmwareFileRecord } from '../ota/types.js'
import type { DeviceSnapshot } from '../types.js'

/** One line of `GET /control/devices`. The device secret is never sent, only whether there is one. */
export interface ControlDeviceSummary {
  productKey: string
  deviceName: string
  online: boolean
  activated: boolean
  disabled: boolean
  hasSecret: boolean
  version: string | undefined
  connectCount: number
  lastConnectedAt: number | undefined
  lastDisconnectedAt: number | undefined
}

/** `GET /control/devices/:pk/:dn`: the snapshot without the secret, raw uplinks in base64. */
export type ControlDeviceView = Omit<DeviceSnapshot, 'deviceSecret' | 'rawUp'> & {
  hasSecret: boolean
  rawUp?: Array<{ payloadBase64: string; time: number }>
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
