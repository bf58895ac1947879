import { LinkkitError, Topics } from '@linkkit/core'
import type { Logger } from 'pino'
import type { DeviceRegistry } from '../registry.js'
import type { DeviceOtaRecords } from './device-ota.js'
import type { FirmwareCatalog } from './firmware-catalog.js'
import { isOngoing, type JobBook } from './job-book.js'
import type { OfferTriggers } from './offer-triggers.js'
import { pushEnvelope } from './push-message.js'
import { DEFAULT_UPGRADE_TIMEOUT_MS, type Firmware, type OtaJob, type PushOptions } from './types.js'

/** Longest upgrade timeout: Node's timers cannot wait longer. */
const MAX_UPGRADE_TIMEOUT_MS = 2_147_483_647

export interface JobOffersContext {
  catalog: FirmwareCatalog
  book: JobBook
  records: DeviceOtaRecords
  logger: Logger
  /** Publishes at QoS 1 through the emulator's broker. */
  publish(topic: string, payload: string): Promise<void>
  /** Emits `ota:push` (the job as pushed, its topic and payload). */
  pushed(job: OtaJob, topic: string, payload: string): void
}

/**
 * How a job reaches its device (docs/protocol.md §3.1): whether the device runs the job's
 * `srcVersion`, and the upgrade message itself, published on `/ota/device/upgrade/{pk}/{dn}` at
 * QoS 1 with a fresh message id. `OfferTriggers` decides when; this sends.
 */
export class JobOffers {
  readonly #c: JobOffersContext
  #messageId = 1

  constructor(context: JobOffersContext) {
    this.#c = context
  }

  /** Whether the device runs the version the job upgrades from (any, without `srcVersion`). */
  eligible(job: OtaJob): boolean {
    return job.srcVersion === undefined || this.#c.records.version(job, job.module) === job.srcVersion
  }

  /** Publishes the job's offer at QoS 1 (3.x subscribes at 1). */
  async offer(job: OtaJob): Promise<void> {
    const firmware = this.#c.catalog.get(job.firmwareId)
    if (firmware === undefined) return
    const topic = Topics.otaUpgrade(job)
    const payload = pushEnvelope(this.#messageId++, firmware)
    this.#c.book.markPushed(job)
    this.#c.logger.info(
      { jobId: job.id, firmwareId: firmware.id, pushCount: job.pushCount },
      'upgrade pushed',
    )
    this.#c.pushed(structuredClone(job), topic, payload)
    await this.#c.publish(topic, payload)
  }

  /** `offer`, its failure logged: for the offers no caller waits on. */
  send(job: OtaJob): void {
    this.offer(job).catch((error: unknown) =>
      this.#c.logger.warn({ err: error, jobId: job.id }, 'upgrade push failed'),
    )
  }

  /**
   * A job another node created (scale-out) is offered by the node whose connection to the device
   * is ready, as `push()` does on the node the device is connected to.
   */
  offerIfHeld(job: OtaJob, triggers: OfferTriggers): void {
    if (!isOngoing(job) || job.status === 'upgrading') return
    if (!triggers.ready(job) || !this.eligible(job)) return
    triggers.reached(job)
    this.send(job)
  }
}

/**
 * The firmware and timeout of a `push()`, checked: a known device, a firmware of its product, an
 * upgrade timeout a timer can wait. ERR_INVALID_ARGUMENT otherwise.
 */
export function checkPush(
  options: PushOptions,
  registry: DeviceRegistry,
  catalog: FirmwareCatalog,
): { firmware: Firmware; timeoutMs: number } {
  const { productKey, deviceName, timeoutMs = DEFAULT_UPGRADE_TIMEOUT_MS } = options
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_UPGRADE_TIMEOUT_MS) {
    throw new LinkkitError(
      'ERR_INVALID_ARGUMENT',
      `timeoutMs must be an integer from 1 to ${MAX_UPGRADE_TIMEOUT_MS}`,
    )
  }
  if (registry.get(productKey, deviceName) === undefined) {
    throw new LinkkitError('ERR_INVALID_ARGUMENT', `unknown device ${productKey}/${deviceName}`)
  }
  const firmware = catalog.get(options.firmware.id)
  if (firmware === undefined || firmware.productKey !== productKey) {
    throw new LinkkitError('ERR_INVALID_ARGUMENT', `firmware ${options.firmware.id} is not of ${productKey}`)
  }
  return { firmware, timeoutMs }
}
