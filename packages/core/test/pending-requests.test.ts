import { afterEach, describe, expect, it, vi } from 'vitest'
import { isLinkkitError, LinkkitError } from '../src/errors.js'
import { PendingRequests } from '../src/pending-requests.js'

const reply = (id: string) => ({ id, code: 200, data: {} })

describe('PendingRequests: one timer for every timeout', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('times out each request at its own deadline, a later shorter one first, whatever was settled meanwhile', async () => {
    vi.useFakeTimers()
    const p = new PendingRequests()
    const outcome: string[] = []
    const track = (id: string, promise: Promise<unknown>) =>
      promise.then(
        () => outcome.push(`${id} ok`),
        (e: unknown) => outcome.push(`${id} ${isLinkkitError(e) ? e.code : 'other'}`),
      )
    const a = track('a', p.wait('a', '/t_reply', 1000))
    const b = track('b', p.wait('b', '/t_reply', 5000))
    const c = track('c', p.wait('c', '/u_reply', 300))
    expect(p.waitsOn('/t_reply')).toBe(true)
    expect(p.settle('/t_reply', reply('a'))).toBe(true)
    await vi.advanceTimersByTimeAsync(299)
    expect(outcome).toEqual(['a ok'])
    await vi.advanceTimersByTimeAsync(1)
    expect(outcome).toEqual(['a ok', 'c ERR_REQUEST_TIMEOUT'])
    expect(p.waitsOn('/u_reply')).toBe(false)
    // a's deadline passes with a settled: b keeps waiting until its own.
    await vi.advanceTimersByTimeAsync(4699)
    expect(outcome).toHaveLength(2)
    expect(p.size).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    await Promise.all([a, b, c])
    expect(outcome).toEqual(['a ok', 'c ERR_REQUEST_TIMEOUT', 'b ERR_REQUEST_TIMEOUT'])
    expect(p.size).toBe(0)
    expect(p.waitsOn('/t_reply')).toBe(false)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('with real time, a short timeout after a long one still fires first', async () => {
    const p = new PendingRequests()
    const long = p.wait('1', '/t_reply', 10_000).catch((e: unknown) => e)
    const short = await p.wait('2', '/t_reply', 30).catch((e: unknown) => e)
    expect(isLinkkitError(short, 'ERR_REQUEST_TIMEOUT')).toBe(true)
    expect(p.size).toBe(1)
    expect(p.settle('/t_reply', reply('1'))).toBe(true)
    expect(await long).toEqual(reply('1'))
  })

  it('matches only the topic a request waits on, aborts, and rejects all on close', async () => {
    const p = new PendingRequests()
    const ac = new AbortController()
    const aborted = p.wait('1', '/t_reply', 10_000, ac.signal).catch((e: unknown) => e)
    const other = p.wait('2', '/t_reply', 10_000).catch((e: unknown) => e)
    expect(p.settle('/x_reply', reply('2'))).toBe(false)
    ac.abort()
    expect(isLinkkitError(await aborted, 'ERR_ABORTED')).toBe(true)
    p.rejectAll(new LinkkitError('ERR_CLOSED'))
    expect(isLinkkitError(await other, 'ERR_CLOSED')).toBe(true)
    expect(p.size).toBe(0)
  })
})
