import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { backoffDelay, DEFAULT_BACKOFF } from '../src/backoff.js'

const opts = { initialDelayMs: 100, maxDelayMs: 10_000, multiplier: 2, jitter: 0.5 }

describe('backoffDelay', () => {
  it('grows exponentially up to the cap when jitter draws 0', () => {
    const delays = [1, 2, 3, 4, 5, 8, 20].map((n) => backoffDelay(n, opts, () => 0))
    expect(delays).toEqual([100, 200, 400, 800, 1600, 10_000, 10_000])
  })

  it('takes at most the jitter fraction off', () => {
    expect(backoffDelay(3, opts, () => 0.999999)).toBe(200)
    expect(backoffDelay(3, { ...opts, jitter: 0 }, () => 0.7)).toBe(400)
  })

  it('always lies within [base·(1−jitter), base] and never exceeds the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (n, r) => {
          const base = Math.min(opts.maxDelayMs, opts.initialDelayMs * 2 ** (n - 1))
          const d = backoffDelay(n, opts, () => r)
          return d <= base && d >= Math.floor(base * (1 - opts.jitter)) && d <= opts.maxDelayMs
        },
      ),
    )
  })

  it('spreads a fleet: 100 devices at attempt 4 do not share one delay', () => {
    const delays = new Set(Array.from({ length: 100 }, () => backoffDelay(4, DEFAULT_BACKOFF)))
    expect(delays.size).toBeGreaterThan(50)
  })

  it('treats attempt 0 or fractions as the first attempt', () => {
    expect(backoffDelay(0, opts, () => 0)).toBe(100)
    expect(backoffDelay(1.7, opts, () => 0)).toBe(100)
  })
})
