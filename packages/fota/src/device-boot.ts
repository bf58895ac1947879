import { LinkkitError, toLinkkitError } from '@linkkit/core'
import type { Logger } from 'pino'
import type { FirmwareModules } from './firmware-modules.js'
import type { OtaChannel } from './ota-channel.js'
import type { TrialState } from './persistence/boot-types.js'
import { type FotaClock, sleepUntil } from './policy/clock.js'
import { OtaProgress } from './progress.js'
import type { FirmwarePersistence } from './types.js'

/** The `desc` of the step -1 a device reports after its adapter rolled an unconfirmed image back. */
export const ROLLED_BACK_DESC = 'rolled back'

/** An image on trial the device rolled back while it ran, as `fota:rollback` tells it: restart now. */
export interface FotaRollback {
  /** The module, undefined for the default one. */
  module?: string
  /** The version that was on trial and is given up. */
  version: string
  /** The version the next boot runs, when known. */
  fallbackVersion?: string
  /** Why: `deadline`, its `confirmWithinMs` ran out without `device.fota.confirm()`. */
  reason: 'deadline'
}

/** What `DeviceBoot` tells its client. */
export interface DeviceBootHooks {
  /** An adapter failed (reading the boot state, rolling back, forgetting a reported rollback). */
  failed(error: LinkkitError): void
  /** A trial image was rolled back at its deadline while it ran. */
  rolledBack(rollback: FotaRollback): void
}

interface Rollback {
  module: string
  persistence: FirmwarePersistence
}

/**
 * The device-level half of confirm-or-roll-back. At start it asks each adapter with trial boots
 * what runs: that version is informed (the adapter knows better than a configured
 * `firmware.version`), an image on trial is not informed until `confirm()` (so the platform's job
 * stays in progress and succeeds only for an image that stays), and a rollback the adapter did is
 * reported once: the old version informed, then step -1 with desc `rolled back`.
 *
 * A trial with a deadline (`confirmWithinMs`, kept by the adapter from the image's first boot, so
 * a restart does not extend it) is watched: when it passes without `confirm()`, the adapter's
 * `rollBack()` gives the image up at once, `fota:rollback` tells the application to restart, and
 * the rollback is reported as above, now when connected or at the next connect.
 */
export class DeviceBoot {
  readonly #modules: FirmwareModules
  readonly #channel: OtaChannel
  readonly #logger: Logger
  readonly #clock: FotaClock
  readonly #hooks: DeviceBootHooks
  /** Modules whose running image is on trial: their version waits for `confirm()`. */
  readonly #trials = new Map<string, string>()
  /** The deadline watch of each module on trial with one; aborted by confirm and close. */
  readonly #deadlines = new Map<string, AbortController>()
  /** Per module, the confirm or deadline rollback under way: the two never interleave. */
  readonly #serial = new Map<string, Promise<unknown>>()
  #rollbacks: Rollback[] = []
  #closed = false

  constructor(
    modules: FirmwareModules,
    channel: OtaChannel,
    logger: Logger,
    clock: FotaClock,
    hooks: DeviceBootHooks,
  ) {
    this.#modules = modules
    this.#channel = channel
    this.#logger = logger
    this.#clock = clock
    this.#hooks = hooks
  }

  /**
   * Reads every adapter's boot state (an unreadable one is an `error` event, not a failed start).
   * A trial whose deadline already passed (the device was off, or restarted) is rolled back now.
   */
  async load(): Promise<void> {
    for (const [module, persistence] of this.#modules.adapters()) {
      if (persistence.bootState === undefined) continue
      try {
        const configured = this.#modules.version(module)
        const state = await persistence.bootState()
        if (state.version !== undefined) this.#modules.setVersion(module, state.version)
        if (state.rolledBack !== undefined) this.#rollbacks.push({ module, persistence })
        if (state.trial === undefined) continue
        this.#trials.set(module, state.trial.version)
        const by = state.trial.confirmBy
        if (by === undefined) continue
        const expire = () => this.#expire(module, persistence, state.trial as TrialState, configured)
        if (this.#clock.now() >= by) await this.#serially(module, expire)
        else this.#watch(module, by, expire)
      } catch (error) {
        this.#hooks.failed(
          toLinkkitError(error, 'ERR_PERSISTENCE', `reading the boot state of module ${module} failed`),
        )
      }
    }
  }

  /** The versions to inform: all but those of modules whose image is on trial. */
  informable(versions: Iterable<readonly [string, string]>): Array<readonly [string, string]> {
    return [...versions].filter(([module]) => !this.#trials.has(module))
  }

  /** Reports the rollbacks not reported yet at every connect of the session; returns the unsubscribe. */
  reportOnConnect(): () => void {
    const session = this.#channel.session
    const report = () => void this.reportRollbacks()
    session.on('connected', report)
    return () => session.off('connected', report)
  }

  /**
   * Reports each rollback once (call it after the versions were informed). One that cannot be
   * reported now (the connection dropped) is an `error` event and waits for the next connect.
   */
  async reportRollbacks(): Promise<void> {
    const rollbacks = this.#rollbacks
    this.#rollbacks = []
    for (const [i, rollback] of rollbacks.entries()) {
      try {
        await this.#report(rollback)
      } catch (error) {
        this.#rollbacks.unshift(...rollbacks.slice(i))
        this.#hooks.failed(toLinkkitError(error, 'ERR_NOT_CONNECTED', 'reporting a rollback failed'))
        return
      }
    }
  }

  async #report({ module, persistence }: Rollback): Promise<void> {
    this.#logger.warn({ module }, 'the adapter rolled back an unconfirmed image; reporting it')
    // The old version first, acknowledged, so the platform hears it before the failure (the
    // automatic inform of a connect may be in flight too; a second inform of a version is harmless).
    const running = this.#modules.version(module)
    if (running !== undefined) await this.#channel.inform(running, moduleParam(module))
    await this.#channel.reportProgress(OtaProgress.GeneralFailed, ROLLED_BACK_DESC, moduleParam(module))
    try {
      await persistence.rollbackReported?.()
    } catch (error) {
      this.#hooks.failed(toLinkkitError(error, 'ERR_PERSISTENCE', 'forgetting the reported rollback failed'))
    }
  }

  /**
   * Confirms the running image of `module` with its adapter (which raises its security counter)
   * and returns the version to inform now, or undefined when no trial ran (nor runs any more:
   * its deadline rolled it back).
   */
  confirm(module: string, persistence: FirmwarePersistence): Promise<string | undefined> {
    return this.#serially(module, async () => {
      if (persistence.confirm === undefined) return undefined
      const before = persistence.bootState === undefined ? undefined : await persistence.bootState()
      await persistence.confirm()
      this.#unwatch(module)
      const version = before?.trial?.version ?? this.#trials.get(module)
      this.#trials.delete(module)
      if (version === undefined) {
        this.#logger.info({ module }, 'confirm() found no image on trial')
        return undefined
      }
      this.#modules.setVersion(module, version)
      this.#logger.info({ module, version }, 'image confirmed')
      return version
    })
  }

  /** Stops watching deadlines and waits for a confirm or rollback under way. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true
    for (const module of [...this.#deadlines.keys()]) this.#unwatch(module)
    await Promise.allSettled([...this.#serial.values()])
  }

  /** Waits for the deadline `by`, then rolls back (unless confirmed or closed first) and reports it when connected. */
  #watch(module: string, by: number, expire: () => Promise<void>): void {
    const watch = new AbortController()
    this.#deadlines.set(module, watch)
    sleepUntil(this.#clock, by, watch.signal)
      .then(
        async () => {
          await this.#serially(module, expire)
          if (this.#channel.session.connected && !this.#closed) await this.reportRollbacks()
        },
        () => undefined, // confirmed or closed first
      )
      .catch((error: unknown) => this.#hooks.failed(toLinkkitError(error, 'ERR_PERSISTENCE')))
  }

  #unwatch(module: string): void {
    this.#deadlines.get(module)?.abort()
    this.#deadlines.delete(module)
  }

  /** Gives the trial image of `module` up through its adapter: its deadline passed unconfirmed. */
  async #expire(
    module: string,
    persistence: FirmwarePersistence,
    trial: TrialState,
    configured: string | undefined,
  ): Promise<void> {
    this.#unwatch(module)
    if (this.#closed || !this.#trials.has(module)) return
    if (persistence.rollBack === undefined) {
      this.#hooks.failed(
        new LinkkitError(
          'ERR_PERSISTENCE',
          `module ${module}: the image on trial passed its confirm deadline, but the adapter has no rollBack()`,
        ),
      )
      return
    }
    this.#logger.warn({ module, version: trial.version }, 'confirm deadline passed; rolling back')
    try {
      await persistence.rollBack()
      const after = persistence.bootState === undefined ? undefined : await persistence.bootState()
      this.#trials.delete(module)
      const fallback = after?.version ?? trial.fallbackVersion ?? configured
      if (fallback !== undefined) this.#modules.setVersion(module, fallback)
      this.#rollbacks.push({ module, persistence })
      const event: FotaRollback = { version: trial.version, reason: 'deadline' }
      if (module !== 'default') event.module = module
      if (fallback !== undefined) event.fallbackVersion = fallback
      this.#hooks.rolledBack(event)
    } catch (error) {
      this.#hooks.failed(
        toLinkkitError(error, 'ERR_PERSISTENCE', `rolling back module ${module} at its deadline failed`),
      )
    }
  }

  /** Runs `step` after whatever runs for `module` now. */
  #serially<T>(module: string, step: () => Promise<T>): Promise<T> {
    const running = (this.#serial.get(module) ?? Promise.resolve()).then(step)
    const settled = running.then(
      () => undefined,
      () => undefined,
    )
    this.#serial.set(module, settled)
    void settled.then(() => {
      if (this.#serial.get(module) === settled) this.#serial.delete(module)
    })
    return running
  }
}

function moduleParam(module: string): string | undefined {
  return module === 'default' ? undefined : module
}
