import type { MqttClient } from 'mqtt'
import type { FaultRule } from './faults.js'
import type { SimOta } from './fleet-ota.js'
import type { DeviceTriple } from './triples.js'

/**
 * Where a simulated device is: waiting for a connect slot, connecting, online, offline (backing
 * off, churned out or rebooting; a delayed task brings it back), or closed with the fleet.
 */
export type SimStatus = 'queued' | 'connecting' | 'online' | 'offline' | 'closed'

/**
 * One simulated device: its triple (the caller's object, not copied), its MQTT.js client while it
 * has one, and a few numbers. It holds no function, map or emitter of its own: the fleet's shared
 * code does everything with this record as a parameter, and OTA state exists only while an
 * upgrade runs.
 */
export class SimDevice {
  client: MqttClient | undefined = undefined
  status: SimStatus = 'queued'
  /** Connect attempts since the last success (the backoff exponent). */
  attempt = 0
  /** Posts of this device waiting for their reply (in the fleet's pending map). */
  pending = 0
  /** The version it runs (informed at each connect). */
  version: string
  /** Values the cloud set, posted instead of generated ones. */
  sets: Record<string, unknown> | undefined = undefined
  /** The last OTA step (see `stepBucket`), undefined before the first offer. */
  otaStep: number | undefined = undefined
  /** The upgrade under way, made when an offer is taken and dropped when it ends. */
  ota: SimOta | undefined = undefined

  constructor(
    readonly triple: DeviceTriple,
    version: string,
    readonly fault: FaultRule | undefined,
  ) {
    this.version = version
  }
}
