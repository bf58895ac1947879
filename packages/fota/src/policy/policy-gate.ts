import { LinkkitError } from '@linkkit/core'
import type { Logger } from 'pino'
import { type FotaClock, sleepUntil } from './clock.js'
import { evaluatePolicies, type PolicyContext, type UpdatePolicy } from './policy.js'

/** A deferral as `fota:deferred` reports it. */
export interface Deferral {
  /** Why, as the deferring policies said it. */
  readonly reason: string
  /** When the policies are asked again (clock time, ms since the epoch). */
  readonly retryAt: number
}

/** What one wait needs: the context to judge, and what to do around a deferral. */
export interface GateWait {
  /** Builds the context each time the policies are asked. */
  context(): PolicyContext | Promise<PolicyContext>
  /** Told of each deferral, before the wait. */
  deferred(deferral: Deferral): void
  /** After a wait, before the policies are asked again (e.g. to refresh the offer); may throw. */
  woke?(): Promise<void>
  /** Cancels the wait; its reason is thrown. */
  signal: AbortSignal
}

/** Holds a step (a download, an activation) until `firmware.policy` lets it happen. */
export class PolicyGate {
  readonly #policies: readonly UpdatePolicy[]
  readonly clock: FotaClock
  readonly #logger: Logger

  constructor(policies: readonly UpdatePolicy[], clock: FotaClock, logger: Logger) {
    this.#policies = policies
    this.clock = clock
    this.#logger = logger
  }

  /** Resolves once every policy proceeds; throws `ERR_POLICY_REFUSED` on a refusal, or the signal's reason. */
  async wait(wait: GateWait): Promise<void> {
    if (this.#policies.length === 0) return
    for (;;) {
      const context = await wait.context()
      const outcome = await evaluatePolicies(this.#policies, context, this.#logger)
      if (outcome.action === 'proceed') return
      if (outcome.action === 'refuse') {
        throw new LinkkitError('ERR_POLICY_REFUSED', `firmware ${context.version}: ${outcome.reason}`, {
          details: {
            policy: outcome.policy,
            reason: outcome.reason,
            stage: context.stage,
            module: context.module,
          },
        })
      }
      this.#logger.info(
        { stage: context.stage, module: context.module, version: context.version, retryAt: outcome.retryAt },
        `deferred: ${outcome.reason}`,
      )
      wait.deferred({ reason: outcome.reason, retryAt: outcome.retryAt })
      await sleepUntil(this.clock, outcome.retryAt, wait.signal)
      await wait.woke?.()
    }
  }
}
