import { CliError, UsageError } from './errors.js'

const REQUEST_TIMEOUT_MS = 30_000
/** Where the CLI reads the emulator's control token from (so it stays out of argv and shell history). */
export const CONTROL_TOKEN_ENV = 'LINKKIT_CONTROL_TOKEN'

/** Talks to a running emulator's control API (`/control/` on its HTTP URL), with its control token. */
export class ControlClient {
  readonly baseUrl: string
  readonly #signal: AbortSignal
  readonly #token: string | undefined

  /**
   * `emulatorUrl` is the HTTP URL `linkkit emulator` printed, `token` the control token it printed
   * (sent as `Authorization: Bearer`; undefined for an emulator started without one).
   */
  constructor(emulatorUrl: string, signal: AbortSignal, token: string | undefined) {
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
    this.#token = token
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
      const headers: Record<string, string> = {}
      if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`
      if (body !== undefined) headers['content-type'] = 'application/json'
      res = await fetch(url, {
        method,
        headers,
        signal: AbortSignal.any([this.#signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
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
    if (res.status === 401) {
      throw new CliError(
        `the emulator at ${url.origin} wants its control token: give the one \`linkkit emulator\` printed ` +
          `in ${CONTROL_TOKEN_ENV} or --control-token${this.#token === undefined ? '' : ' (the one given is wrong)'}`,
      )
    }
    if (!res.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } }).error
      const reason = error === undefined ? '' : `${error.code}: ${error.message} `
      throw new CliError(`the emulator refused: ${reason}(HTTP ${res.status})`)
    }
    return parsed as T
  }
}
