/**
 * Time as update policies and deferred offers see it. Tests pass a fake clock to open a
 * maintenance window without waiting for it.
 */
export interface FotaClock {
  /** Milliseconds since the epoch. */
  now(): number
  /** Calls `callback` once, `ms` from now; the returned function cancels the call. */
  setTimer(callback: () => void, ms: number): () => void
}

/** The longest delay a Node timer takes; longer waits are made of several. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** The real clock; its timers do not keep the process alive. */
export const systemClock: FotaClock = Object.freeze({
  now: () => Date.now(),
  setTimer(callback: () => void, ms: number): () => void {
    const timer = setTimeout(callback, Math.min(Math.max(0, ms), MAX_TIMER_MS))
    timer.unref()
    return () => clearTimeout(timer)
  },
})

/** Whether `value` has the shape of a clock. */
export function isFotaClock(value: unknown): value is FotaClock {
  const clock = value as Partial<FotaClock> | null
  return typeof clock?.now === 'function' && typeof clock.setTimer === 'function'
}

/**
 * Resolves once `clock` reaches `at` (re-arming past the longest timer), or rejects with the
 * signal's reason when it aborts first.
 */
export function sleepUntil(clock: FotaClock, at: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let cancel: () => void = () => {}
    const onAbort = () => {
      cancel()
      reject(signal.reason)
    }
    const arm = () => {
      const left = at - clock.now()
      if (left <= 0) {
        signal.removeEventListener('abort', onAbort)
        resolve()
        return
      }
      cancel = clock.setTimer(arm, Math.min(left, MAX_TIMER_MS))
    }
    if (signal.aborted) {
      reject(signal.reason)
      return
    }
    signal.addEventListener('abort', onAbort, { once: true })
    arm()
  })
}
