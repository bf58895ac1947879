import type { Logger } from 'pino'
import type { UplinkContext, UplinkHandler } from '../types.js'
import type { DeviceOtaRecords } from './device-ota.js'
import type { FirmwareCatalog } from './firmware-catalog.js'
import type { JobBook } from './job-book.js'
import { pushData } from './push-message.js'
import type { OtaDeviceRef, OtaEvents, OtaInformEntry, OtaJob, OtaProgressEntry } from './types.js'
import { parseInform, parseProgress, parseQuery, rawText, topicDevice } from './uplink-parse.js'

export interface OtaUplinksContext {
  records: DeviceOtaRecords
  book: JobBook
  catalog: FirmwareCatalog
  logger: Logger
  publish(topic: string, payload: string): Promise<void>
  offer(job: OtaJob): Promise<void>
  eligible(job: OtaJob): boolean
  online(device: OtaDeviceRef): boolean
  emit<E extends keyof OtaEvents>(event: E, ...args: OtaEvents[E]): void
}

/**
 * Handles the device's OTA uplinks (docs/protocol.md §3.1): version informs, progress, the firmware
 * query and the legacy request. Everything is keyed on the pk/dn in the topic, never on the
 * publisher (a gateway publishes for its sub-devices). A malformed payload is recorded or logged,
 * never thrown.
 */
export class OtaUplinks {
  readonly #c: OtaUplinksContext

  constructor(context: OtaUplinksContext) {
    this.#c = context
  }

  /** Registers the handlers; returns the functions removing them. */
  mount(host: { onUplink(filter: string, handler: UplinkHandler): () => void }): Array<() => void> {
    return [
      host.onUplink('/ota/device/inform/+/+', (ctx) => this.#inform(ctx)),
      host.onUplink('/ota/device/progress/+/+', (ctx) => this.#progress(ctx)),
      host.onUplink('/ota/device/request/+/+', (ctx) => this.#request(ctx)),
      host.onUplink('/sys/+/+/thing/ota/firmware/get', (ctx) => this.#firmwareGet(ctx)),
    ]
  }

  #inform({ topic, payload }: UplinkContext): void {
    const ref = topicDevice(topic)
    if (ref === undefined) return
    const device = this.#c.records.get(ref)
    const parsed = parseInform(payload)
    const entry: OtaInformEntry = parsed.ok
      ? {
          at: Date.now(),
          module: parsed.module,
          valid: true,
          version: parsed.version,
          error: undefined,
          raw: undefined,
        }
      : {
          at: Date.now(),
          module: 'default',
          valid: false,
          version: undefined,
          error: parsed.error,
          raw: rawText(payload),
        }
    this.#c.records.recordInform(device, entry)
    this.#c.emit('ota:inform', ref, structuredClone(entry))
    if (!parsed.ok) {
      this.#c.logger.warn({ topic, error: parsed.error }, 'invalid version inform')
      return
    }
    const job = this.#c.book.ongoing(device, parsed.module)
    if (job === undefined) return
    const { version } = parsed
    // The only way a job succeeds: the device runs the target version (docs/protocol.md §3.2).
    if (version === job.version) this.#c.book.setStatus(job, 'succeeded')
    else if (job.status === 'upgrading') this.#unexpected(job, version)
    else {
      // Until it starts, what the device runs is what it upgrades from.
      if (job.srcVersion === undefined) {
        job.sourceVersion = version
        this.#c.book.save(job)
      }
      if (job.status === 'pending' && this.#c.eligible(job) && this.#c.online(ref)) this.#send(job)
    }
  }

  /**
   * A device that started the upgrade and comes back informing neither the source nor the target
   * version failed it (docs/protocol.md §6 item 18). Informing the source version again is no failure:
   * 3.x informs after every reconnect, mid-download too. Without a known source nothing is decided.
   */
  #unexpected(job: OtaJob, version: string): void {
    const source = job.sourceVersion
    if (source === undefined || version === source) return
    const reason = `the device informed ${version}, neither the source ${source} nor the target ${job.version}`
    this.#c.book.end(job, 'failed', 'version', reason)
  }

  #progress({ topic, payload }: UplinkContext): void {
    const ref = topicDevice(topic)
    if (ref === undefined) return
    const device = this.#c.records.get(ref)
    const parsed = parseProgress(payload)
    const module = parsed.ok ? parsed.module : 'default'
    const job = this.#c.book.ongoing(device, module)
    const latest = job ?? device.ota.jobs.findLast((j) => j.module === module)
    const entry: OtaProgressEntry = parsed.ok
      ? {
          at: Date.now(),
          module,
          valid: true,
          step: parsed.step,
          desc: parsed.desc,
          error: undefined,
          raw: undefined,
          jobId: latest?.id,
        }
      : {
          at: Date.now(),
          module,
          valid: false,
          step: undefined,
          desc: undefined,
          error: parsed.error,
          raw: rawText(payload),
          jobId: latest?.id,
        }
    this.#c.records.recordProgress(device, entry)
    if (parsed.ok && job !== undefined) this.#c.book.progress(job, parsed.step, parsed.desc)
    this.#c.emit('ota:progress', ref, structuredClone(entry))
    if (!parsed.ok) this.#c.logger.warn({ topic, error: parsed.error }, 'invalid progress report')
  }

  /**
   * `thing.ota.firmware.get` (§3.4): replies with the offer of the module's unfinished job, or
   * `data: {}`. The reply `id` is a string as every downlink reply (§6 item 4).
   */
  #firmwareGet({ topic, payload }: UplinkContext): void {
    const ref = topicDevice(topic)
    const parsed = parseQuery(payload)
    if (ref === undefined || !parsed.ok || parsed.id === undefined) {
      this.#c.logger.warn(
        { topic, error: parsed.ok ? 'id is missing' : parsed.error },
        'invalid firmware query',
      )
      return
    }
    const job = this.#offerable(ref, parsed.module)
    const firmware = job === undefined ? undefined : this.#c.catalog.get(job.firmwareId)
    if (job !== undefined && firmware !== undefined) this.#c.book.markPushed(job)
    const reply = {
      id: parsed.id,
      code: 200,
      data: firmware === undefined ? {} : pushData(firmware),
      message: 'success',
      method: 'thing.ota.firmware.get',
      version: '1.0',
    }
    this.#c.publish(`${topic}_reply`, JSON.stringify(reply)).catch((error: unknown) => {
      this.#c.logger.warn({ err: error, topic }, 'firmware query reply failed')
    })
  }

  /**
   * Legacy `/ota/device/request` (3.x ITM_MSG_REQUEST_FOTA_IMAGE). The reply is not documented
   * (docs/protocol.md §7); inferred: when the module has an unfinished job the offer is pushed again on
   * `/ota/device/upgrade/{pk}/{dn}`, otherwise nothing is sent.
   */
  #request({ topic, payload }: UplinkContext): void {
    const ref = topicDevice(topic)
    const parsed = parseQuery(payload)
    if (ref === undefined || !parsed.ok) {
      this.#c.logger.warn(
        { topic, error: parsed.ok ? 'bad topic' : parsed.error },
        'invalid firmware request',
      )
      return
    }
    const job = this.#offerable(ref, parsed.module)
    if (job !== undefined) this.#send(job)
  }

  /** The module's unfinished job when it may be offered to the device now. */
  #offerable(ref: OtaDeviceRef, module: string): OtaJob | undefined {
    const job = this.#c.book.ongoing(this.#c.records.get(ref), module)
    return job !== undefined && this.#c.eligible(job) ? job : undefined
  }

  #send(job: OtaJob): void {
    this.#c.offer(job).catch((error: unknown) => {
      this.#c.logger.warn({ err: error, jobId: job.id }, 'upgrade push failed')
    })
  }
}
