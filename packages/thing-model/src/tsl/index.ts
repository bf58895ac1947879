export type { TslDocumentRule, TslRule } from './codes.js'
export { TSL_ARRAY_MAX_SIZE, TSL_TEXT_MAX_LENGTH, TslPlatformCodes } from './codes.js'
export type { ThingEvent, ThingParam, ThingProperty, ThingService } from './definitions.js'
export { loadThingModel, parseThingModel, type ThingModelSource } from './load.js'
export type { TslMemberSpec, TslSpec } from './spec.js'
export { ThingModel, type TslCheckResult, type ValidatePropertiesOptions } from './thing-model.js'
export type {
  TslAccessMode,
  TslArraySpecs,
  TslCallType,
  TslDataType,
  TslDocument,
  TslEvent,
  TslLabelSpecs,
  TslNumberSpecs,
  TslNumeric,
  TslParam,
  TslProperty,
  TslService,
  TslTextSpecs,
  TslTypeName,
} from './types.js'
export type { TslValidationDetails } from './validation-error.js'
