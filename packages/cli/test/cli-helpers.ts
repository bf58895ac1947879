import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach } from 'vitest'
import { runCli } from '../src/cli.js'
import type { CliIo } from '../src/io.js'

export const BIN = fileURLToPath(new URL('../bin/linkkit.mjs', import.meta.url))
export const LAMP_TSL = fileURLToPath(new URL('../../../examples/lamp.tsl.json', import.meta.url))

export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/** Runs one command line in-process with captured output; `signal` stands for Ctrl-C. */
export async function cli(
  argv: string[],
  options: { signal?: AbortSignal; env?: Record<string, string> } = {},
): Promise<CliRun> {
  const io = memoryIo(options)
  const code = await runCli(argv, io)
  return { code, stdout: io.out.join(''), stderr: io.err.join('') }
}

export function memoryIo(options: { signal?: AbortSignal; env?: Record<string, string> } = {}): CliIo & {
  out: string[]
  err: string[]
} {
  const out: string[] = []
  const err: string[] = []
  return {
    out,
    err,
    stdout: { write: (text: string) => out.push(text), isTTY: false },
    stderr: { write: (text: string) => err.push(text), isTTY: false },
    env: options.env ?? {},
    cwd: process.cwd(),
    signal: options.signal ?? new AbortController().signal,
  }
}

/** Resolves once `predicate` holds for the captured text, polling; rejects after `timeoutMs`. */
export async function eventually(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** A `linkkit` child process run through the real launcher, its output collected line by line. */
export class CliProcess {
  readonly child: ChildProcessWithoutNullStreams
  readonly lines: string[] = []
  stderr = ''
  readonly exited: Promise<number | null>
  #partial = ''

  /** `env` adds to the test process's environment (e.g. `LINKKIT_CONTROL_TOKEN`). */
  constructor(args: string[], cwd: string, env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', ...env },
    })
    running.add(this)
    this.child.stdout.setEncoding('utf8')
    this.child.stderr.setEncoding('utf8')
    this.child.stdout.on('data', (chunk: string) => {
      const parts = (this.#partial + chunk).split('\n')
      this.#partial = parts.pop() ?? ''
      this.lines.push(...parts)
    })
    this.child.stderr.on('data', (chunk: string) => {
      this.stderr += chunk
    })
    this.exited = new Promise((resolve) => this.child.once('close', (code) => resolve(code)))
    void this.exited.then(() => running.delete(this))
  }

  /** Parsed JSON lines (the output of `--json`). */
  get events(): Array<Record<string, unknown>> {
    return this.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
  }

  /** Resolves with the first JSON line with `event` matching (and `where` holding), waiting for it. */
  async event(
    event: string,
    where: (e: Record<string, unknown>) => boolean = () => true,
    timeoutMs = 15_000,
  ) {
    const find = () => this.events.find((e) => e.event === event && where(e))
    await eventually(() => find() !== undefined || this.child.exitCode !== null, `event ${event}`, timeoutMs)
    const found = find()
    if (found === undefined)
      throw new Error(`exited (${this.child.exitCode}) before ${event}: ${this.stderr}`)
    return found
  }

  /** The whole run of a short command: exit code and output. */
  async result(): Promise<CliRun> {
    const code = (await this.exited) ?? -1
    return { code, stdout: this.lines.join('\n') + this.#partial, stderr: this.stderr }
  }
}

const running = new Set<CliProcess>()

afterEach(async () => {
  const left = [...running]
  for (const p of left) p.child.kill('SIGKILL')
  await Promise.all(left.map((p) => p.exited))
})
