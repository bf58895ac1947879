import type { OptionSpec } from './args.js'
import { UsageError } from './errors.js'

const LEVELS = ['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const
export type LogLevel = (typeof LEVELS)[number]

export const LOG_LEVEL_OPTION: OptionSpec = {
  type: 'string',
  value: 'level',
  description: `pino log level on stderr: ${LEVELS.join('|')}`,
  default: 'silent',
}

export function logLevel(text: string): LogLevel {
  const level = LEVELS.find((l) => l === text)
  if (level === undefined) throw new UsageError(`--log-level takes ${LEVELS.join('|')}, got '${text}'`)
  return level
}
