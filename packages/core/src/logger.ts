import { type Level, type Logger, pino } from 'pino'

/** A pino logger, or a level for a logger linkkit creates (to stderr). Silent when omitted. */
export type LoggerOption = Logger | Level | 'silent'

/** Object paths whose values never reach log output. */
export const REDACT_PATHS: readonly string[] = Object.freeze([
  'deviceSecret',
  'productSecret',
  'password',
  'secret',
  'sign',
  'deviceToken',
  '*.deviceSecret',
  '*.productSecret',
  '*.password',
  '*.secret',
  '*.sign',
  '*.deviceToken',
  'url',
  '*.url',
])

const redact = { paths: [...REDACT_PATHS], censor: redactValue }

function redactValue(value: unknown, path: string[]): unknown {
  const key = path[path.length - 1]
  if (key === 'url' && typeof value === 'string') return redactUrl(value)
  return '[redacted]'
}

/** Drops the query string (signatures, tokens) and any user-info of a URL. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    u.username = ''
    u.password = ''
    const hadQuery = u.search.length > 0
    u.search = ''
    u.hash = ''
    return hadQuery ? `${u.toString()}?[redacted]` : u.toString()
  } catch {
    const q = url.indexOf('?')
    return q < 0 ? url : `${url.slice(0, q)}?[redacted]`
  }
}

/**
 * The logger a linkkit component uses: a child of the user's logger (or of a new one at the given
 * level), bound to `component`, with secrets redacted even when the user's logger has no redaction.
 */
export function createLogger(option: LoggerOption | undefined, component: string): Logger {
  const base = baseLogger(option)
  // A silent logger writes nothing, so it needs neither bindings nor redaction (and stays cheap to create).
  if (base === silent) return base
  return base.child({ component }, { redact })
}

let silent: Logger | undefined

function baseLogger(option: LoggerOption | undefined): Logger {
  if (option === undefined || option === 'silent') {
    silent ??= pino({ level: 'silent' })
    return silent
  }
  if (typeof option === 'string') return pino({ level: option, redact }, pino.destination(2))
  return option
}
