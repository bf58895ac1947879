import type { LinkkitError, RegisteredDevice } from '@linkkit/core'
import type { ConfigOffer, FirmwareOffer, FotaProgress } from '@linkkit/fota'
import type { ThingClientEvents } from '@linkkit/thing-model'

/** Events of a `Device` (eventemitter3). A listener that throws is logged and cannot break the session. */
export interface DeviceEvents {
  /** Connected and subscribed; `reconnect` is true after an automatic reconnect. */
  connected: (info: { sessionPresent: boolean; reconnect: boolean }) => void
  /** The connection dropped; `error` is set when it will not come back (e.g. the platform refused the device). */
  disconnected: (info: { error?: LinkkitError }) => void
  /** A reconnect attempt is scheduled after `delayMs`. */
  reconnecting: (info: { attempt: number; delayMs: number }) => void
  /** Something went wrong that no promise could report: a malformed inbound message, a refused offer… Without a listener it is printed once per code as a `LinkkitWarning` (docs/errors.md). */
  error: (error: LinkkitError) => void
  /** The cloud offers firmware (ITE_FOTA / ITE_FOTA_MODULE); call `device.fota.download(offer)`. */
  fota: (offer: FirmwareOffer) => void
  /** Local download progress (bytes, total, percent). */
  'fota:progress': (progress: FotaProgress) => void
  /** The cloud set properties (ITE_PROPERTY_SET). */
  'property:set': ThingClientEvents['property:set']
  /** The cloud invoked a service (ITE_SERVICE_REQUEST). */
  service: ThingClientEvents['service']
  /** A remote configuration is offered (ITE_COTA). */
  config: (offer: ConfigOffer) => void
  /** Every inbound MQTT message, raw. */
  message: (topic: string, payload: Buffer) => void
  /** Dynamic registration gave the device its secret (ITE_DYNREG_DEVICE_SECRET): store it. */
  registered: (device: RegisteredDevice) => void
}
