import { type LinkkitError, toLinkkitError } from '@linkkit/core'
import type { Logger } from 'pino'
import type { FirmwareModules } from './firmware-modules.js'
import type { OtaChannel } from './ota-channel.js'
import { OtaProgress } from './progress.js'
import type { FirmwarePersistence } from './types.js'

/** The `desc` of the step -1 a device reports after its adapter rolled an unconfirmed image back. */
export const ROLLED_BACK_DESC = 'rolled back'

interface Rollback {
  module: string
  version: string | undefined
  persistence: FirmwarePersistence
}

/**
 * The device-level half of confirm-or-roll-back. At start it asks each adapter with trial boots
 * what runs: that version is informed (the adapter knows better than a configured
 * `firmware.version`), an image on trial is not informed until `confirm()` (so the platform's job
 * stays in progress and succeeds only for an image that stays), and a rollback the adapter did is
 * reported once: the old version informed, then step -1 with desc `rolled back`.
 */
export class DeviceBoot {
  readonly #modules: FirmwareModules
  readonly #channel: OtaChannel
  readonly #logger: Logger
  readonly #failed: (error: LinkkitError) => void
  /** Modules whose running image is on trial: their version waits for `confirm()` (made when one is). */
  #trials: Map<string, string> | undefined
  #rollbacks: Rollback[] = []

  constructor(
    modules: FirmwareModules,
    channel: OtaChannel,
    logger: Logger,
    failed: (error: LinkkitError) => void,
  ) {
    this.#modules = modules
    this.#channel = channel
    this.#logger = logger
    this.#failed = failed
  }

  /** Reads every adapter's boot state (an unreadable one is an `error` event, not a failed start). */
  async load(): Promise<void> {
    for (const [module, persistence] of this.#modules.adapters()) {
      if (persistence.bootState === undefined) continue
      try {
        const state = await persistence.bootState()
        if (state.version !== undefined) this.#modules.setVersion(module, state.version)
        if (state.trial !== undefined) {
          this.#trials ??= new Map()
          this.#trials.set(module, state.trial.version)
        }
        if (state.rolledBack !== undefined) {
          this.#rollbacks.push({ module, version: state.rolledBack.version, persistence })
        }
      } catch (error) {
        this.#failed(
          toLinkkitError(error, 'ERR_PERSISTENCE', `reading the boot state of module ${module} failed`),
        )
      }
    }
  }

  /** The versions to inform: all but those of modules whose image is on trial. */
  informable(versions: Iterable<readonly [string, string]>): Array<readonly [string, string]> {
    return [...versions].filter(([module]) => !this.#trials?.has(module))
  }

  /** Reports each rollback found at start once (call it after the versions were informed). */
  async reportRollbacks(): Promise<void> {
    const rollbacks = this.#rollbacks
    this.#rollbacks = []
    for (const { module, version, persistence } of rollbacks) {
      this.#logger.warn({ module, version }, 'the adapter rolled back an unconfirmed image; reporting it')
      // The old version first, acknowledged, so the platform hears it before the failure (the
      // automatic inform of a connect may be in flight too; a second inform of a version is harmless).
      const running = this.#modules.version(module)
      if (running !== undefined) await this.#channel.inform(running, moduleParam(module))
      await this.#channel.reportProgress(OtaProgress.GeneralFailed, ROLLED_BACK_DESC, moduleParam(module))
      try {
        await persistence.rollbackReported?.()
      } catch (error) {
        this.#failed(toLinkkitError(error, 'ERR_PERSISTENCE', 'forgetting the reported rollback failed'))
      }
    }
  }

  /**
   * Confirms the running image of `module` with its adapter (which raises its security counter)
   * and returns the version to inform now, or undefined when no trial ran.
   */
  async confirm(module: string, persistence: FirmwarePersistence): Promise<string | undefined> {
    if (persistence.confirm === undefined) return undefined
    const before = persistence.bootState === undefined ? undefined : await persistence.bootState()
    await persistence.confirm()
    const version = before?.trial?.version ?? this.#trials?.get(module)
    this.#trials?.delete(module)
    if (version === undefined) return undefined
    this.#modules.setVersion(module, version)
    this.#logger.info({ module, version }, 'image confirmed')
    return version
  }
}

function moduleParam(module: string): string | undefined {
  return module === 'default' ? undefined : module
}
