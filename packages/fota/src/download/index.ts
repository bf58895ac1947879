export { downloadFirmware } from './download-firmware.js'
export {
  DEFAULT_DEADLINE_MS,
  DEFAULT_DOWNLOAD_RETRY,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MIN_BYTES_PER_SECOND,
  DEFAULT_RATE_WINDOW_MS,
  type DownloadOptions,
  type DownloadResult,
  type DownloadRetryOptions,
  type DownloadTlsOptions,
  type FirmwareSink,
  type FirmwareSource,
} from './options.js'
export { retryDelayMs } from './retry-delay.js'
