import { integerOption, invalidOption } from '@linkkit/core'
import type { PolicyContext, PolicyStage, PolicyVerdict, UpdatePolicy } from './policy.js'

const MINUTE_MS = 60_000
const DAY_MS = 24 * 60 * MINUTE_MS
const proceed: PolicyVerdict = Object.freeze({ action: 'proceed' })

/** A duration in ms; fractions are allowed (the clock is a number), so it is not an `integerOption`. */
function nonNegative(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback
  if (!(typeof v === 'number' && Number.isFinite(v) && v >= 0))
    throw invalidOption(name, 'a finite number >= 0')
  return v
}

function minutesOf(text: string, name: string): number {
  const match = typeof text === 'string' ? /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text) : null
  if (match === null) throw invalidOption(name, `HH:MM (00:00–23:59), got ${JSON.stringify(text)}`)
  return Number(match[1]) * 60 + Number(match[2])
}

/** Options of {@link maintenanceWindow}. */
export interface MaintenanceWindowOptions {
  /** Opening time of day, `HH:MM`. */
  start: string
  /** Closing time of day, `HH:MM` (before `start`: the window spans midnight). */
  end: string
  /** The offset from UTC the times are in, in minutes (480 for UTC+8). @default 0 */
  utcOffsetMinutes?: number
  /** @default ['download', 'activate'] */
  stages?: readonly PolicyStage[]
}

/**
 * Downloads and activations only within a daily window (`02:00`–`05:00`, or across midnight
 * `22:00`–`04:00`); outside it they wait for the next opening. Throws `ERR_INVALID_OPTIONS` for
 * a malformed or empty window.
 */
export function maintenanceWindow(options: MaintenanceWindowOptions): UpdatePolicy {
  const start = minutesOf(options.start, 'maintenanceWindow start')
  const end = minutesOf(options.end, 'maintenanceWindow end')
  if (start === end) throw invalidOption('maintenanceWindow end', 'another time than start')
  const offset = integerOption(options.utcOffsetMinutes, 'maintenanceWindow utcOffsetMinutes', 0, {
    min: -14 * 60,
    max: 14 * 60,
  })
  const sign = offset < 0 ? '-' : '+'
  const zone = `UTC${sign}${String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0')}:${String(Math.abs(offset) % 60).padStart(2, '0')}`
  const label = `${options.start}–${options.end} ${zone}`
  return {
    name: 'maintenanceWindow',
    stages: options.stages ?? ['download', 'activate'],
    check({ now }) {
      const msOfDay = (((now + offset * MINUTE_MS) % DAY_MS) + DAY_MS) % DAY_MS
      const minute = Math.floor(msOfDay / MINUTE_MS)
      const open = start < end ? minute >= start && minute < end : minute >= start || minute < end
      if (open) return proceed
      const untilOpen = (start * MINUTE_MS - msOfDay + DAY_MS) % DAY_MS
      return { action: 'defer', reason: `outside the maintenance window ${label}`, retryAt: now + untilOpen }
    },
  }
}

/** Options of {@link enoughRoom}. */
export interface EnoughRoomOptions {
  /** Bytes to leave free besides the offer. @default 0 */
  marginBytes?: number
  /** How soon to look again when the room is there but taken. @default 600000 (10 minutes) */
  recheckMs?: number
}

/**
 * Downloads only when the adapter has room (its optional `capacity()`): an offer larger than the
 * storage can ever hold is refused; one larger than the room free now (a trial image still in
 * the spare slot, a full disk) waits. Adapters without `capacity()` always pass.
 */
export function enoughRoom(options: EnoughRoomOptions = {}): UpdatePolicy {
  const margin = nonNegative(options.marginBytes, 0, 'enoughRoom marginBytes')
  const recheckMs = nonNegative(options.recheckMs, 10 * MINUTE_MS, 'enoughRoom recheckMs')
  return {
    name: 'enoughRoom',
    stages: ['download'],
    async check({ persistence, sizeBytes, now }) {
      if (persistence.capacity === undefined) return proceed
      const { totalBytes, freeBytes } = await persistence.capacity()
      const needed = sizeBytes + margin
      if (needed > totalBytes) {
        return { action: 'refuse', reason: `needs ${needed} bytes, the storage holds ${totalBytes}` }
      }
      if (needed > freeBytes) {
        return {
          action: 'defer',
          reason: `needs ${needed} bytes, ${freeBytes} free`,
          retryAt: now + recheckMs,
        }
      }
      return proceed
    },
  }
}

/** Options of {@link retryBudget}. */
export interface RetryBudgetOptions {
  /** Failed downloads of one offer before it is refused. @default 3 */
  attempts?: number
  /** Wait after the first failure; doubles per failure. @default 60000 */
  baseDelayMs?: number
  /** Upper bound of one wait. @default 3600000 */
  maxDelayMs?: number
}

/**
 * A retry budget per offer (module, version and digest) with backoff: after a failed download
 * the same offer (a re-push, a `firmware/get` answer) waits `baseDelayMs`, doubling per failure,
 * and is refused once `attempts` downloads of it failed, so a broken package cannot drain a
 * battery or a data plan.
 */
export function retryBudget(options: RetryBudgetOptions = {}): UpdatePolicy {
  const attempts = integerOption(options.attempts, 'retryBudget attempts', 3)
  const base = nonNegative(options.baseDelayMs, MINUTE_MS, 'retryBudget baseDelayMs')
  const max = nonNegative(options.maxDelayMs, 60 * MINUTE_MS, 'retryBudget maxDelayMs')
  return {
    name: 'retryBudget',
    stages: ['download'],
    check({ failures, lastFailureAt, now, version }) {
      if (failures >= attempts) {
        return { action: 'refuse', reason: `retry budget spent: ${failures} downloads of ${version} failed` }
      }
      if (failures === 0 || lastFailureAt === undefined) return proceed
      const due = lastFailureAt + Math.min(max, base * 2 ** (failures - 1))
      if (now >= due) return proceed
      return { action: 'defer', reason: `backing off after ${failures} failed downloads`, retryAt: due }
    },
  }
}

/** Options of {@link allowWhen}. */
export interface AllowWhenOptions {
  /** How soon to ask again after a "not now". @default 60000 */
  recheckMs?: number
  /** @default ['download', 'activate'] */
  stages?: readonly PolicyStage[]
  /** The name in logs. @default 'allowWhen' */
  name?: string
}

/**
 * The device's own say (battery, a metered link, busy): `true` goes ahead; `false`, or a string
 * giving the reason, waits and asks again after `recheckMs`.
 */
export function allowWhen(
  predicate: (context: PolicyContext) => boolean | string | Promise<boolean | string>,
  options: AllowWhenOptions = {},
): UpdatePolicy {
  if (typeof predicate !== 'function') throw invalidOption('allowWhen predicate', 'a function')
  const recheckMs = nonNegative(options.recheckMs, MINUTE_MS, 'allowWhen recheckMs')
  return {
    name: options.name ?? 'allowWhen',
    stages: options.stages ?? ['download', 'activate'],
    async check(context) {
      const answer = await predicate(context)
      if (answer === true) return proceed
      const reason = typeof answer === 'string' && answer.length > 0 ? answer : 'the device is not ready'
      return { action: 'defer', reason, retryAt: context.now + recheckMs }
    },
  }
}
