import { LinkkitError } from '@linkkit/core'
import type { FirmwareImage, FirmwarePersistence, PersistenceOutcome } from '@linkkit/fota'
import type { Random } from './values.js'

/**
 * A fault given to a share of the fleet. `refuse`: the device answers every offer with step -1
 * and fetches nothing. `stall`: its downloads stop at `atPercent` and hang there (the platform
 * sees the progress stop) until the device goes offline. `fail`: its store fails the write that
 * crosses `atPercent`, so the SDK reports step -4 (burn failed) and the upgrade fails.
 */
export interface FaultRule {
  /** The share of the fleet with this fault, from 0 to 1 (rounded to whole devices). */
  share: number
  /** What goes wrong. */
  kind: 'refuse' | 'stall' | 'fail'
  /** Where in the image a `stall` or `fail` strikes, 0–99. @default 50 */
  atPercent?: number
}

export const FAULT_KINDS = ['refuse', 'stall', 'fail'] as const

/**
 * Which devices get which fault: the device indexes are shuffled with the fleet's random source,
 * then each rule takes the next `round(share × total)` of them. Returns one entry per device.
 */
export function assignFaults(
  total: number,
  rules: readonly FaultRule[],
  random: Random,
): Array<FaultRule | undefined> {
  const order = Array.from({ length: total }, (_, i) => i)
  for (let i = total - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[order[i], order[j]] = [order[j] as number, order[i] as number]
  }
  const faults = new Array<FaultRule | undefined>(total).fill(undefined)
  let next = 0
  for (const rule of rules) {
    const count = Math.round(rule.share * total)
    for (let k = 0; k < count && next < total; k++) faults[order[next++] as number] = rule
  }
  return faults
}

/**
 * Wraps a store with a `stall` or `fail` fault: writes below the mark pass through; the write that
 * crosses it fails (`fail`) or waits until `signal` aborts (`stall`).
 */
export class FaultyPersistence implements FirmwarePersistence {
  readonly #inner: FirmwarePersistence
  readonly #rule: FaultRule
  readonly #signal: AbortSignal
  #mark = 0

  constructor(inner: FirmwarePersistence, rule: FaultRule, signal: AbortSignal) {
    this.#inner = inner
    this.#rule = rule
    this.#signal = signal
  }

  start(image: FirmwareImage, offset: number): Promise<void> | void {
    this.#mark = Math.floor((image.size * (this.#rule.atPercent ?? 50)) / 100)
    return this.#inner.start(image, offset)
  }

  async write(chunk: Uint8Array, offset: number): Promise<void> {
    if (offset + chunk.byteLength > this.#mark) {
      if (this.#rule.kind === 'fail') {
        throw new LinkkitError(
          'ERR_PERSISTENCE_WRITE',
          `injected fault: the store failed at ${this.#mark} bytes`,
        )
      }
      await stalled(this.#signal)
    }
    await this.#inner.write(chunk, offset)
  }

  stop(outcome: PersistenceOutcome): Promise<void> | void {
    return this.#inner.stop(outcome)
  }
}

function stalled(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const stop = () =>
      reject(new LinkkitError('ERR_ABORTED', 'injected stall ended: the device went offline'))
    if (signal.aborted) stop()
    else signal.addEventListener('abort', stop, { once: true })
  })
}
