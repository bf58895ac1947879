/**
 * The Alink thing model: TSL loading and validation, properties, events, services (async and RRPC),
 * desired properties, tags, NTP and raw data (`ThingClient`).
 *
 * @packageDocumentation
 * @module @linkkit/thing-model
 */
export type { DeviceTag, QueryOptions } from './device-info.js'
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
export {
  loadThingModel,
  parseThingModel,
  type ThingEvent,
  ThingModel,
  type ThingModelSource,
  type ThingParam,
  type ThingProperty,
  type ThingService,
  TSL_ARRAY_MAX_SIZE,
  TSL_TEXT_MAX_LENGTH,
  type TslAccessMode,
  type TslArraySpecs,
  type TslCallType,
  type TslCheckResult,
  type TslDataType,
  type TslDocument,
  type TslDocumentRule,
  type TslEvent,
  type TslLabelSpecs,
  type TslMemberSpec,
  type TslNumberSpecs,
  type TslNumeric,
  type TslParam,
  TslPlatformCodes,
  type TslProperty,
  type TslRule,
  type TslService,
  type TslSpec,
  type TslTextSpecs,
  type TslTypeName,
  type TslValidationDetails,
  type ValidatePropertiesOptions,
} from './tsl/index.js'
export {
  type BatchPost,
  type HistoryEntry,
  MAX_PROPERTIES_PER_POST,
  type PostOptions,
  type PropertySample,
} from './uplink.js'
