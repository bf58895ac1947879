/**
 * Firmware over the air: offers, the streaming downloader with resume and verification, progress,
 * the basic (`OtaSession`) and advanced (`FotaClient`) APIs, remote configuration and the
 * `FirmwarePersistence` adapters.
 *
 * @packageDocumentation
 * @module @linkkit/fota
 */
export * from './cota.js'
export * from './download/index.js'
export * from './fota-client.js'
export * from './offer.js'
export * from './ota-session.js'
export * from './perform.js'
export * from './persistence/file.js'
export * from './persistence/flash-sim.js'
export * from './persistence/memory.js'
export * from './progress.js'
export * from './pull-download.js'
export type * from './types.js'
