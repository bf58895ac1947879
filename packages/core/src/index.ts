/**
 * The connection manager: credentials and signing, the MQTT session with reconnect and an offline
 * queue, Alink request/reply, topics, coded errors, logging and dynamic registration.
 *
 * @packageDocumentation
 * @module @linkkit/core
 */
export * from './alink.js'
export * from './backoff.js'
export * from './client-options.js'
export * from './connack.js'
export * from './connection.js'
export * from './connection-types.js'
export * from './credentials.js'
export * from './dynreg.js'
export * from './errors.js'
export * from './inbound-json.js'
export * from './logger.js'
export * from './offline-queue.js'
export * from './options.js'
export * from './pending-requests.js'
export * from './redact.js'
export * from './request.js'
export * from './router.js'
export * from './safe-emit.js'
export * from './session.js'
export * from './sign.js'
export * from './subscriptions.js'
export * from './topics.js'
export * from './withdrawable-queue.js'
