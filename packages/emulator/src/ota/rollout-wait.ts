import { LinkkitError } from '@linkkit/core'
import type { EventEmitter } from 'eventemitter3'
import type { OtaRollout, RolloutStatus } from './rollout-types.js'
import type { OtaEvents } from './types.js'

/** Statuses a rollout never leaves. */
export const FINAL: ReadonlySet<RolloutStatus> = new Set(['completed', 'canceled'])

/** Where `waitForRollout` hears of rollouts. */
export interface RolloutWatch {
  events: EventEmitter<OtaEvents>
  closed: AbortSignal
  /** The rollout as this node holds it now. */
  get(id: string): OtaRollout | undefined
}

/**
 * Resolves with a copy once the rollout's status is one of `wanted`; rejects with ERR_OTA_STATE
 * when it ends (completed, canceled) otherwise, ERR_REQUEST_TIMEOUT after `timeoutMs`, ERR_CLOSED
 * when the emulator closes.
 */
export function waitForRollout(
  watch: RolloutWatch,
  id: string,
  wanted: RolloutStatus | readonly RolloutStatus[],
  timeoutMs: number,
): Promise<OtaRollout> {
  const set = new Set<RolloutStatus>(typeof wanted === 'string' ? [wanted] : wanted)
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const rollout = watch.get(id)
      if (rollout === undefined) return fail(new LinkkitError('ERR_INVALID_ARGUMENT', `no rollout ${id}`))
      if (set.has(rollout.status)) {
        done()
        resolve(structuredClone(rollout))
        return true
      }
      if (FINAL.has(rollout.status)) {
        return fail(
          new LinkkitError('ERR_OTA_STATE', `rollout ${id} ended ${rollout.status}`, {
            details: { rolloutId: id, status: rollout.status, wanted: [...set] },
          }),
        )
      }
      return false
    }
    const fail = (error: LinkkitError): true => {
      done()
      reject(error)
      return true
    }
    const onRollout = (rollout: OtaRollout) => {
      if (rollout.id === id) check()
    }
    const onClose = () => fail(new LinkkitError('ERR_CLOSED', 'the emulator closed'))
    const timer = setTimeout(() => {
      const status = watch.get(id)?.status
      fail(new LinkkitError('ERR_REQUEST_TIMEOUT', `rollout ${id} is still ${status} after ${timeoutMs} ms`))
    }, timeoutMs)
    timer.unref()
    const done = () => {
      clearTimeout(timer)
      watch.events.off('ota:rollout', onRollout)
      watch.closed.removeEventListener('abort', onClose)
    }
    if (check()) return
    if (watch.closed.aborted) return void onClose()
    watch.events.on('ota:rollout', onRollout)
    watch.closed.addEventListener('abort', onClose, { once: true })
  })
}
