/**
 * The connection manager: credentials and signing, the MQTT session with reconnect and an offline
 * queue (`Connection`), the `Session` interface the thing model, OTA and gateway code speak over,
 * Alink request/reply, topics, wire codes, coded errors, logging and dynamic registration.
 *
 * The index names every export: what is not here (the offline queue, pending requests, the topic
 * router, the request flow, MQTT.js options…) is internal and may change. `SessionCore` is the one
 * building block for a session carried by another transport.
 *
 * @packageDocumentation
 * @module @linkkit/core
 */
export {
  type AlinkReply,
  type AlinkRequest,
  normaliseId,
  parseReply,
  parseRequest,
  requestEnvelope,
} from './alink.js'
export { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.js'
export { deviceMqttOptions, SDK_VERSION } from './client-options.js'
export { mqttClientError } from './connack.js'
export { Connection } from './connection.js'
export type {
  ConnectionEvents,
  ConnectionState,
  ConnectOptions,
  Payload,
  PublishOptions,
  RequestOptions,
} from './connection-types.js'
export { buildCredentials, type CredentialInput, type MqttCredentials } from './credentials.js'
export { type RegisteredDevice, type RegisterOptions, registerDevice } from './dynreg.js'
export {
  ErrorCodes,
  isLinkkitError,
  LinkkitError,
  type LinkkitErrorCode,
  type LinkkitErrorOptions,
  toLinkkitError,
} from './errors.js'
export { DEFAULT_INBOUND_LIMITS, type InboundLimits, parseJson, peekId } from './inbound-json.js'
export { createLogger, type LoggerOption, redactUrl } from './logger.js'
export type { OfflineQueueOptions, OverflowPolicy } from './offline-queue.js'
export {
  booleanOption,
  booleanRule,
  checkOption,
  functionRule,
  type IntegerBounds,
  integerOption,
  integerRule,
  invalidOption,
  type NumberBounds,
  nonEmptyStringRule,
  numberOption,
  numberRule,
  type OptionRule,
  objectRule,
  oneOfOption,
  oneOfRule,
  refusedOption,
  requireOption,
  type UrlRuleOptions,
  urlRule,
} from './option-check.js'
export type {
  ConnectionOptions,
  ReconnectOptions,
  ResolvedConnectionOptions,
  TlsOptions,
} from './options.js'
export { type DetachedCause, detachedCause } from './redact.js'
export type { MessageHandler } from './router.js'
export {
  type ErrorEventSource,
  type ErrorEventTarget,
  emitError,
  forwardErrors,
  LINKKIT_WARNING,
  LISTENER_THREW,
  safeEmit,
} from './safe-emit.js'
export type { Session, SessionEvents, SessionMessageHandler } from './session.js'
export {
  type CarrierSendOptions,
  type SessionCarrier,
  SessionCore,
  type SessionCoreOptions,
  type SessionLink,
} from './session-core.js'
export {
  hmacHex,
  registerSignContent,
  SIGN_METHODS,
  type SignMethod,
  type SignParams,
  signContent,
  signPassword,
} from './sign.js'
export type { Qos } from './subscriptions.js'
export {
  assertTopicSegment,
  type DeviceIdentity,
  identityKey,
  sameIdentity,
  Topics,
  topicIdentity,
  topicMatches,
} from './topics.js'
export type { TslDocumentRule, TslRule } from './tsl-rules.js'
export { type WireCode, WireCodes } from './wire-codes.js'
