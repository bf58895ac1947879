/**
 * The Alink thing model: TSL loading and validation, properties, events, services (async and RRPC),
 * desired properties, tags, NTP and raw data (`ThingClient`).
 *
 * @packageDocumentation
 * @module @linkkit/thing-model
 */
export type { DeviceTag, RequestOptions } from './device-info.js'
export { EchoFilter } from './echo-filter.js'
export type {
  CloudErrorNotice,
  DesiredValues,
  PropertySetEvent,
  RawDownEvent,
  ServiceEvent,
  ThingClientEvents,
} from './events.js'
export { type NtpOptions, type NtpResult, ntpTime } from './ntp.js'
export type { ResolvedThingClientOptions, RrpcMode, ThingClientOptions } from './options.js'
export type { HandlerInfo, PropertyGetHandler, PropertySetHandler } from './properties.js'
export type { PostRawOptions, RawHandler } from './raw.js'
export { DEVICE_CODE_MAX, DEVICE_CODE_MIN, DeviceReplyCodes, ServiceError } from './reply-codes.js'
export type { ServiceHandler, ServiceHandlerOptions, ServiceInfo } from './services.js'
export { ThingClient } from './thing-client.js'
export { ThingSurface } from './thing-surface.js'
export * from './tsl/index.js'
export {
  type BatchPost,
  type HistoryEntry,
  MAX_PROPERTIES_PER_POST,
  type PostOptions,
  type PropertySample,
} from './uplink.js'
