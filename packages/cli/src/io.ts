/** A stream the CLI writes to (`process.stdout`, or a test's collector); `isTTY` decides between a redrawn bar and plain lines. */
export interface CliStream {
  /** Writes text as is. */
  write(text: string): unknown
  /** Whether it is a terminal (then lines are redrawn in place). */
  isTTY?: boolean
}

/** What a command may touch of its process, so tests can run commands in-process. */
export interface CliIo {
  /** Where results go. */
  stdout: CliStream
  /** Where diagnostics and errors go. */
  stderr: CliStream
  /** The environment (`LINKKIT_CONTROL_TOKEN`, `NO_COLOR`…). */
  env: Readonly<Record<string, string | undefined>>
  /** Relative paths on the command line are resolved against this. */
  cwd: string
  /** Aborted on SIGINT or SIGTERM: long-running commands shut down cleanly and exit 0. */
  signal: AbortSignal
}

/** Prints results as text for people or as JSON (one document per line) for scripts. */
export class Output {
  readonly json: boolean
  readonly #io: CliIo

  constructor(io: CliIo, json: boolean) {
    this.#io = io
    this.json = json
  }

  /** A line for people (nothing in JSON mode). */
  text(line: string): void {
    if (!this.json) this.#io.stdout.write(`${line}\n`)
  }

  /** A JSON line (nothing in text mode). */
  data(value: unknown): void {
    if (this.json) this.#io.stdout.write(`${JSON.stringify(value)}\n`)
  }

  /** `line` for people, `value` for scripts. */
  emit(line: string, value: unknown): void {
    if (this.json) this.data(value)
    else this.text(line)
  }

  /** A warning on stderr in text mode; a JSON line with `event: 'warning'` in JSON mode. */
  warn(message: string): void {
    if (this.json) this.data({ event: 'warning', message })
    else this.#io.stderr.write(`warning: ${message}\n`)
  }
}
