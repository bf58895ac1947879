/**
 * Time as the emulator's OTA jobs see it: their timestamps and upgrade timeouts. Tests pass a
 * fake clock to run a 30-minute timeout without waiting for it.
 */
export interface EmulatorClock {
  /** Milliseconds since the epoch. */
  now(): number
  /** Calls `callback` once, `ms` from now; the returned function cancels the call. */
  setTimer(callback: () => void, ms: number): () => void
}

/** The real clock; its timers do not keep the process alive. */
export const systemClock: EmulatorClock = Object.freeze({
  now: () => Date.now(),
  setTimer(callback: () => void, ms: number): () => void {
    const timer = setTimeout(callback, ms)
    timer.unref()
    return () => clearTimeout(timer)
  },
})

export function isClock(value: unknown): value is EmulatorClock {
  const clock = value as Partial<EmulatorClock> | null
  return typeof clock?.now === 'function' && typeof clock.setTimer === 'function'
}
