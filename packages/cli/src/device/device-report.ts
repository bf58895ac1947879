import type { FirmwareOffer, FotaProgress, FotaResult } from '@linkkit/sdk'
import { reasonOf } from '../errors.js'
import type { CliIo, Output } from '../io.js'
import { type ProgressBar, progressBar } from '../progress-bar.js'

/** How the simulated device tells what it does: text (with a progress bar on a TTY) or JSON lines. */
export class DeviceReport {
  readonly #out: Output
  readonly #io: CliIo
  #bar: ProgressBar | undefined
  #lastPercent = -1

  constructor(out: Output, io: CliIo) {
    this.#out = out
    this.#io = io
  }

  /** The configuration, secret redacted. */
  starting(config: Record<string, unknown>): void {
    const echo = { ...config, deviceSecret: '<redacted>' }
    this.#out.data({ event: 'starting', ...echo })
  }

  booted(note: string): void {
    this.#out.emit(`flash: ${note}`, { event: 'booted', note })
  }

  connected(info: {
    brokerUrl: string
    productKey: string
    deviceName: string
    version: string
    persistence: string
  }): void {
    this.#out.emit(
      `connected to ${info.brokerUrl} as ${info.productKey}/${info.deviceName}, firmware ${info.version} (${info.persistence})`,
      { event: 'connected', ...info },
    )
  }

  connection(event: 'disconnected' | 'reconnected' | 'reconnecting', detail = ''): void {
    this.#out.emit(`${event}${detail ? ` ${detail}` : ''}`, { event, detail })
  }

  posted(properties: Record<string, unknown>): void {
    const names = Object.keys(properties)
    const shown = names.slice(0, 3).map((name) => `${name}=${JSON.stringify(properties[name])}`)
    const more = names.length > 3 ? `, … (${names.length} properties)` : ''
    this.#out.emit(`posted ${shown.join(', ')}${more}`, { event: 'posted', properties })
  }

  propertySet(properties: Record<string, unknown>): void {
    this.#out.emit(`cloud set ${JSON.stringify(properties)}`, { event: 'property:set', properties })
  }

  service(serviceId: string, params: Record<string, unknown>, output: Record<string, unknown>): void {
    this.#out.emit(`service ${serviceId}(${JSON.stringify(params)}) → ${JSON.stringify(output)}`, {
      event: 'service',
      serviceId,
      params,
      output,
    })
  }

  offer(offer: FirmwareOffer): void {
    this.#lastPercent = -1
    this.#bar = this.#out.json ? undefined : progressBar(this.#io.stdout)
    const { version, size, signMethod, digest } = offer
    this.#out.emit(`offer: firmware ${version}, ${size} bytes, ${signMethod} ${digest.slice(0, 16)}…`, {
      event: 'fota:offer',
      version,
      size,
      signMethod,
      digest,
    })
  }

  progress(p: FotaProgress): void {
    if (this.#bar !== undefined) {
      this.#bar.update(p.bytes, p.total)
      return
    }
    const percent = Math.floor(p.percent)
    if (percent === this.#lastPercent) return
    this.#lastPercent = percent
    this.#out.data({ event: 'fota:progress', version: p.version, bytes: p.bytes, total: p.total, percent })
  }

  downloaded(result: FotaResult): void {
    this.#bar?.done()
    this.#out.emit(`downloaded and verified firmware ${result.version} (${result.bytes} bytes)`, {
      event: 'fota:downloaded',
      version: result.version,
      bytes: result.bytes,
      resumedBytes: result.resumedBytes,
    })
  }

  fotaFailed(error: unknown): void {
    this.#bar?.done()
    const reason = reasonOf(error)
    const hint = reason.startsWith('ERR_HTTP_NOT_ALLOWED') ? ' (pass --allow-http for the emulator)' : ''
    this.#out.emit(`upgrade failed: ${reason}${hint}`, { event: 'fota:failed', reason })
  }

  rebooting(version: string): void {
    this.#out.emit(`rebooting into firmware ${version}`, { event: 'reboot', version })
  }

  warn(message: string): void {
    this.#out.warn(message)
  }

  closed(): void {
    this.#out.emit('device closed', { event: 'closed' })
  }
}
