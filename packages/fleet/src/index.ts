/**
 * Fleets of simulated devices in one process: `simulateFleet({ url, devices, thingModel, … })`
 * runs thousands of real linkkit devices against one broker (the emulator, Mosquitto, a real
 * instance), posting, answering, upgrading, churning and failing as configured, with live metrics.
 * Guide: `docs/fleet.md`.
 *
 * @packageDocumentation
 * @module @linkkit/fleet
 */
export type { FaultRule } from './faults.js'
export { FlashSimPool, type FlashSimPoolOptions } from './flash-pool.js'
export { Fleet, simulateFleet } from './fleet.js'
export type { DeviceView } from './fleet-view.js'
export type { FleetMetrics } from './metrics.js'
export type { FleetChurnOptions, FleetOptions, FleetOtaOptions, FleetStore } from './options.js'
export type { SimStatus } from './sim-device.js'
export {
  type DeviceTriple,
  type RegisterDevicesOptions,
  readTriples,
  registerDevices,
} from './triples.js'
export { type Random, sampleParams, sampleValue } from './values.js'
