import { CliError, UsageError } from './errors.js'

const REQUEST_TIMEOUT_MS = 30_000

/** Talks to a running emulator's control API (`/control/` on its HTTP URL). */
export class ControlClient {
  readonly baseUrl: string
  readonly #signal: AbortSignal

  /** `emulatorUrl` is the HTTP URL `linkkit emulator` printed. */
  constructor(emulatorUrl: string, signal: AbortSignal) {
    let url: URL
    try {
      url = new URL(emulatorUrl)
    } catch {
      throw new UsageError(`--emulator must be an http:// URL, got '${emulatorUrl}'`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new UsageError(`--emulator must be an http:// URL, got '${emulatorUrl}'`)
    }
    this.baseUrl = `${url.origin}/control/`
    this.#signal = signal
  }

  get<T>(path: string): Promise<T> {
    return this.#call<T>('GET', path)
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.#call<T>('POST', path, body)
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(path, this.baseUrl)
    let res: Response
    try {
      res = await fetch(url, {
        method,
        signal: AbortSignal.any([this.#signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
        ...(body === undefined
          ? {}
          : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      })
    } catch (error) {
      if (this.#signal.aborted) throw new CliError('interrupted')
      const cause = (error as { cause?: { code?: string; message?: string } }).cause
      const reason = cause?.code ?? cause?.message ?? (error as Error).message
      throw new CliError(`cannot reach the emulator at ${url.origin} (${reason})`)
    }
    const text = await res.text()
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new CliError(`${url.origin} answered HTTP ${res.status} without JSON: is it a linkkit emulator?`)
    }
    if (!res.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } }).error
      const reason = error === undefined ? '' : `${error.code}: ${error.message} `
      throw new CliError(`the emulator refused: ${reason}(HTTP ${res.status})`)
    }
    return parsed as T
  }
}
