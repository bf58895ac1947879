import type { Logger } from 'pino'
import type { FirmwareOffer, FirmwarePersistence } from '../types.js'

/** When a policy is asked: before a download starts, or before the downloaded image is activated. */
export type PolicyStage = 'download' | 'activate'

/** What a policy decides from. */
export interface PolicyContext {
  /** Which step is about to happen. */
  readonly stage: PolicyStage
  /** The module (`default` for the whole device firmware). */
  readonly module: string
  /** The version offered (download) or downloaded (activate). */
  readonly version: string
  /** Bytes of the offer, all files together (0 at activation when unknown). */
  readonly sizeBytes: number
  /** The offer, at the download stage. */
  readonly offer: FirmwareOffer | undefined
  /** The clock's time (ms since the epoch). */
  readonly now: number
  /** Downloads of this offer (same module, version and digest) that failed so far. */
  readonly failures: number
  /** When the last of them failed (clock time), if any did. */
  readonly lastFailureAt: number | undefined
  /** The module's adapter (the `enoughRoom` policy asks its `capacity()`). */
  readonly persistence: FirmwarePersistence
}

/**
 * A policy's answer: go ahead; not now, ask again at `retryAt` (clock time), and why; or never
 * for this offer, and why.
 */
export type PolicyVerdict =
  | {
      /** Go ahead. */
      readonly action: 'proceed'
    }
  | {
      /** Not now. */
      readonly action: 'defer'
      /** Why, in a few words (logged and emitted with `fota:deferred`). */
      readonly reason: string
      /** When to ask again (clock time). */
      readonly retryAt: number
    }
  | {
      /** Never for this offer: reported to the platform as step -1 with the reason. */
      readonly action: 'refuse'
      /** Why, in a few words. */
      readonly reason: string
    }

/**
 * One rule of `firmware.policy`. Every policy that applies to a stage must proceed; the first
 * refusal wins, and deferrals wait for the latest `retryAt` among them.
 */
export interface UpdatePolicy {
  /** A short name for logs and `details.policy`. */
  readonly name: string
  /** The stages it is asked at. @default ['download', 'activate'] */
  readonly stages?: readonly PolicyStage[]
  /** Decides; may be async. A throw defers for a minute, with the error's message as the reason. */
  check(context: PolicyContext): PolicyVerdict | Promise<PolicyVerdict>
}

/** The combined answer, with the refusing or deferring policies named. */
export type PolicyOutcome =
  | { readonly action: 'proceed' }
  | { readonly action: 'defer'; readonly reason: string; readonly retryAt: number }
  | { readonly action: 'refuse'; readonly reason: string; readonly policy: string }

/** The shortest re-check: a policy answering "not now, ask again now" must not spin. */
const MIN_RECHECK_MS = 1000
const FAILED_POLICY_RECHECK_MS = 60_000

/** Asks every policy that applies to the context's stage, in order; see {@link UpdatePolicy}. */
export async function evaluatePolicies(
  policies: readonly UpdatePolicy[],
  context: PolicyContext,
  logger: Logger,
): Promise<PolicyOutcome> {
  const reasons: string[] = []
  let retryAt = Number.NEGATIVE_INFINITY
  for (const policy of policies) {
    if (policy.stages !== undefined && !policy.stages.includes(context.stage)) continue
    let verdict: PolicyVerdict
    try {
      verdict = await policy.check(context)
      if (!isVerdict(verdict)) throw new Error('it returned no verdict')
    } catch (error) {
      const message =
        error instanceof Error ? error.message : typeof error === 'string' ? error : typeof error
      const reason = `policy ${policy.name} failed: ${message}`
      logger.warn({ policy: policy.name, stage: context.stage }, reason)
      verdict = { action: 'defer', reason, retryAt: context.now + FAILED_POLICY_RECHECK_MS }
    }
    if (verdict.action === 'refuse') return { action: 'refuse', reason: verdict.reason, policy: policy.name }
    if (verdict.action === 'defer') {
      reasons.push(verdict.reason)
      retryAt = Math.max(retryAt, verdict.retryAt, context.now + MIN_RECHECK_MS)
    }
  }
  return reasons.length === 0
    ? { action: 'proceed' }
    : { action: 'defer', reason: reasons.join('; '), retryAt }
}

function isVerdict(value: unknown): value is PolicyVerdict {
  const v = value as Partial<Record<string, unknown>> | null
  if (v?.action === 'proceed') return true
  if (v?.action === 'refuse') return typeof v.reason === 'string'
  return v?.action === 'defer' && typeof v.reason === 'string' && Number.isFinite(v.retryAt)
}

/** `firmware.policy` as a list (one policy, several, or none). */
export function policyList(
  policy: UpdatePolicy | readonly UpdatePolicy[] | undefined,
): readonly UpdatePolicy[] {
  if (policy === undefined) return []
  return Array.isArray(policy) ? policy : [policy as UpdatePolicy]
}
