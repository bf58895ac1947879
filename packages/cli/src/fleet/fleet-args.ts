import type { FaultRule } from '@linkkit/fleet'
import { UsageError } from '../errors.js'

/** `--faults stall:0.05,refuse:0.1@50` → fault rules (kind:share[@atPercent]). */
export function parseFaults(text: string | undefined): FaultRule[] {
  if (text === undefined) return []
  return text.split(',').map((part) => {
    const match = /^(refuse|stall|fail):(\d*\.?\d+)(?:@(\d{1,2}))?$/.exec(part.trim())
    if (match === null) {
      throw new UsageError(`--faults takes kind:share[@percent] items (refuse|stall|fail), got '${part}'`)
    }
    const share = Number(match[2])
    if (!(share >= 0 && share <= 1))
      throw new UsageError(`--faults: a share is from 0 to 1, got '${match[2]}'`)
    const rule: FaultRule = { kind: match[1] as FaultRule['kind'], share }
    if (match[3] !== undefined) rule.atPercent = Number(match[3])
    return rule
  })
}

/** `--store memory` or `--store flash:<dir>[:<chips>]`. */
export function parseStore(text: string): { kind: 'memory' } | { kind: 'flash'; dir: string; size: number } {
  if (text === 'memory') return { kind: 'memory' }
  const match = /^flash:(.+?)(?::(\d+))?$/.exec(text)
  if (match === null) throw new UsageError(`--store takes memory or flash:<dir>[:<chips>], got '${text}'`)
  const size = match[2] === undefined ? 4 : Number(match[2])
  if (size < 1 || size > 1024) throw new UsageError('--store flash: the number of chips is from 1 to 1024')
  return { kind: 'flash', dir: match[1] as string, size }
}
