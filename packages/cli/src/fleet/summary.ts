import type { FleetMetrics } from '@linkkit/fleet'

const STEP_ORDER = ['0', '25', '50', '75', '100', 'upgraded', '-1', '-2', '-3', '-4']
const BAR_WIDTH = 30

/** The lines of the live summary (`linkkit fleet` without `--json`). */
export function summaryLines(m: FleetMetrics): string[] {
  const seconds = (m.elapsedMs / 1000).toFixed(0)
  const lines = [
    `fleet  ${m.connected}/${m.total} connected  (${m.connecting} connecting, ${m.queued} queued, ${m.offline} offline)  ${seconds} s`,
    `       connects ${m.connects} (${m.connectsPerSecond}/s)  failed ${m.connectFailures}  dropped ${m.disconnects}  churned ${m.churned}`,
    `posts  ${m.posts.answered} answered  ${m.posts.perSecond}/s  round trip p50 ${m.roundTripMs.p50} ms  p99 ${m.roundTripMs.p99} ms  failed ${m.posts.failed}  lost ${m.posts.lost}`,
    `cloud  services ${m.services}  property sets ${m.propertySets}`,
    `ota    offers ${m.ota.offers}  succeeded ${m.ota.succeeded}  failed ${m.ota.failed}`,
  ]
  const steps = STEP_ORDER.filter((key) => (m.ota.steps[key] ?? 0) > 0)
  const most = Math.max(1, ...steps.map((key) => m.ota.steps[key] ?? 0))
  for (const key of steps) {
    const count = m.ota.steps[key] ?? 0
    const bar = '#'.repeat(Math.max(1, Math.round((count * BAR_WIDTH) / most)))
    lines.push(`  ${key.padStart(9)}  ${bar} ${count}`)
  }
  const errors = Object.entries(m.errors)
  if (errors.length > 0) lines.push(`errors ${errors.map(([code, n]) => `${code} ${n}`).join('  ')}`)
  return lines
}

/**
 * Draws the summary: on a terminal it is redrawn in place (cursor up over the previous drawing,
 * each line cleared); elsewhere each drawing is appended, separated by a blank line.
 */
export class SummaryView {
  #drawn = 0
  readonly #write: (text: string) => void
  readonly #tty: boolean

  constructor(write: (text: string) => void, tty: boolean) {
    this.#write = write
    this.#tty = tty
  }

  draw(m: FleetMetrics): void {
    const lines = summaryLines(m)
    if (!this.#tty) {
      this.#write(`${lines.join('\n')}\n\n`)
      return
    }
    const up = this.#drawn > 0 ? `\x1b[${this.#drawn}F` : ''
    const extra = Math.max(0, this.#drawn - lines.length)
    this.#write(`${up}${lines.map((l) => `\x1b[2K${l}\n`).join('')}${'\x1b[2K\n'.repeat(extra)}`)
    this.#drawn = lines.length + extra
  }
}
