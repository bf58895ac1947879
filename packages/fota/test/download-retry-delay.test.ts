import { describe, expect, it } from 'vitest'
import { retryDelayMs } from '../src/download/index.js'

const retry = { baseDelayMs: 100, maxDelayMs: 1000 }

describe('retryDelayMs', () => {
  it('doubles per failure in a row and stops at maxDelayMs', () => {
    const ceiling = (failures: number) => retryDelayMs(failures, retry, () => 0)
    expect([1, 2, 3, 4, 5, 6, 50].map(ceiling)).toEqual([100, 200, 400, 800, 1000, 1000, 1000])
  })

  it('randomises up to half of the delay, never below it', () => {
    expect(retryDelayMs(3, retry, () => 0.999_999)).toBe(200)
    for (let i = 0; i < 200; i++) {
      const delay = retryDelayMs(2, retry)
      expect(delay).toBeGreaterThanOrEqual(100)
      expect(delay).toBeLessThanOrEqual(200)
    }
  })

  it('is zero when the base delay is zero', () => {
    expect(retryDelayMs(4, { baseDelayMs: 0, maxDelayMs: 0 })).toBe(0)
  })
})
