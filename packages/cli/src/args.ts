import { parseArgs } from 'node:util'
import { UsageError } from './errors.js'

/** One option of a command, as parsed and as shown by `--help`. */
export interface OptionSpec {
  type: 'string' | 'boolean'
  /** Placeholder shown in help: `--product <pk>`. */
  value?: string
  description: string
  /** Used when the option is absent (and shown in help). */
  default?: string
  required?: boolean
  /** An environment variable read when the option is absent (kept out of shell history). */
  env?: string
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>

/** The values of one command line, checked against its specs. */
export class ParsedOptions {
  readonly #values: Record<string, string | boolean | undefined>
  readonly #specs: OptionSpecs

  constructor(values: Record<string, string | boolean | undefined>, specs: OptionSpecs) {
    this.#values = values
    this.#specs = specs
  }

  /** True when given on the command line (or through its environment variable). */
  has(name: string): boolean {
    return this.#values[name] !== undefined
  }

  string(name: string): string | undefined {
    const value = this.#values[name]
    return typeof value === 'string' ? value : this.#specs[name]?.default
  }

  /** A required option's value; `parseOptions` already refused its absence. */
  required(name: string): string {
    const value = this.string(name)
    if (value === undefined) throw new UsageError(`missing required option --${name}`)
    return value
  }

  flag(name: string): boolean {
    return this.#values[name] === true
  }

  integer(name: string, min: number, max: number): number | undefined {
    const text = this.string(name)
    if (text === undefined) return undefined
    const value = Number(text)
    if (!/^\d+$/.test(text) || value < min || value > max) {
      throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got '${text}'`)
    }
    return value
  }
}

/** Parses `argv` strictly (unknown options and stray arguments are refused) with util.parseArgs. */
export function parseOptions(
  specs: OptionSpecs,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): ParsedOptions {
  const options: Record<string, { type: 'string' | 'boolean' }> = {}
  for (const [name, spec] of Object.entries(specs)) options[name] = { type: spec.type }
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Record<
      string,
      string | boolean | undefined
    >
  } catch (error) {
    throw new UsageError(parseFailure(error))
  }
  for (const [name, spec] of Object.entries(specs)) {
    const fromEnv = spec.env === undefined ? undefined : env[spec.env]
    if (values[name] === undefined && fromEnv !== undefined && fromEnv !== '') values[name] = fromEnv
    if (spec.required && values[name] === undefined) {
      throw new UsageError(`missing required option --${name}${spec.env ? ` (or ${spec.env})` : ''}`)
    }
    if (values[name] === '') throw new UsageError(`option --${name} needs a non-empty value`)
  }
  return new ParsedOptions(values, specs)
}

/** Rewrites parseArgs' messages (long, with advice about `--`) into one short line. */
function parseFailure(error: unknown): string {
  const code = (error as { code?: string }).code
  const message = error instanceof Error ? error.message : String(error)
  const token = /'([^']*)'/.exec(message)?.[1]?.replace(/ <value>$/, '') ?? ''
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${token}`
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument '${token}'`
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return message.includes('does not take an argument')
        ? `option ${token} takes no value`
        : `option ${token} needs a value`
    default:
      return message
  }
}

/** True when the user asked for help anywhere on the line (before a `--`). */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false
    if (arg === '--help' || arg === '-h') return true
  }
  return false
}
