import type { LinkkitError } from '@linkkit/core'
import type { Device, FirmwareOffer } from '@linkkit/sdk'
import type { FaultRule } from './faults.js'
import type { DeviceTriple } from './triples.js'

/**
 * Where a simulated device is: waiting for a connect slot, connecting, online, offline (backing
 * off, churned out or rebooting; a delayed task brings it back), or closed with the fleet.
 */
export type SimStatus = 'queued' | 'connecting' | 'online' | 'offline' | 'closed'

/** What a simulated device's (shared) listeners call on its fleet. */
export interface SimHost {
  /** The connection dropped without the fleet asking. */
  lost(sim: SimDevice): void
  /** A firmware offer arrived. */
  offer(sim: SimDevice, offer: FirmwareOffer): void
  /** The device reported an error. */
  error(error: LinkkitError): void
}

/**
 * One simulated device's state, kept small: its triple (the caller's object, not copied), the
 * `Device` while it has a session, and a few numbers. Everything it does is done by the fleet
 * with this object as a parameter, so ten thousand of them carry no closures of their own beyond
 * the property-set handler.
 */
export class SimDevice {
  device: Device | undefined = undefined
  status: SimStatus = 'queued'
  /** Connect attempts since the last success (the backoff exponent). */
  attempt = 0
  /** The version it runs (informed at each connect). */
  version: string
  /** Values the cloud set, posted instead of generated ones. */
  sets: Record<string, unknown> | undefined = undefined
  /** The last OTA step (see `stepBucket`), undefined before the first offer. */
  otaStep: number | undefined = undefined
  /** Aborts the running download (the device went offline or the fleet closes). */
  download: AbortController | undefined = undefined

  constructor(
    readonly host: SimHost,
    readonly triple: DeviceTriple,
    version: string,
    readonly fault: FaultRule | undefined,
  ) {
    this.version = version
  }
}
