import { LinkkitError, toLinkkitError } from '@linkkit/core'
import type { Logger } from 'pino'
import { failureStep } from './failure.js'
import type { OtaChannel } from './ota-channel.js'
import { sameOffer } from './policy/attempts.js'
import { OtaProgress } from './progress.js'
import type { FirmwareOffer, FirmwarePersistence } from './types.js'

/** What the refusals and refreshes of offers need from their client. */
export interface RefusalDeps {
  readonly channel: OtaChannel
  readonly logger: Logger
  /**
   * Aborted by the client's `close()`. The controller, not its signal: Node makes the signal (an
   * EventTarget with two maps, ~0.5 KiB) only when asked for, and most clients never need it.
   */
  readonly closing: AbortController
  /** An offer that replaced a waiting one, taken as any other offer once the waiting one gave way. */
  replaced(offer: FirmwareOffer): void
  /** A failure to tell the application (`error`). */
  failed(error: LinkkitError): void
}

/**
 * An offer for a module the device did not declare: tells the platform (step -1 with the reason)
 * and the application (`error`); returns the error to throw.
 */
export async function refuseUndeclared(deps: RefusalDeps, offer: FirmwareOffer): Promise<LinkkitError> {
  const module = offer.module ?? 'default'
  const desc = `module ${module} is not declared on this device`.slice(0, 128)
  const error = new LinkkitError('ERR_MODULE_UNDECLARED', `firmware ${offer.version}: ${desc}`, {
    details: { module, version: offer.version },
  })
  deps.logger.warn({ module, version: offer.version }, 'offer for an undeclared module refused')
  await deps.channel.reportProgress(OtaProgress.GeneralFailed, desc, offer.module)
  deps.failed(error)
  return error
}

/**
 * A download that ended before its first byte. Refusals (trust, policy) are reported with their
 * step and reason, and the adapter is told `stop({ ok: false, resumable: false })` (no `start`
 * came before it: nothing to discard). A withdrawn offer or a closed client reports nothing; a
 * cancelled wait reports -1 as a cancelled download does. Returns the error to throw.
 */
export async function reportRefusal(
  deps: RefusalDeps,
  error: LinkkitError,
  offer: FirmwareOffer,
  persistence: FirmwarePersistence,
): Promise<LinkkitError> {
  const err = closing(error, deps.closing.signal)
  if (err.code === 'ERR_CLOSED' || err.code === 'ERR_OFFER_WITHDRAWN') return err
  deps.logger.warn({ code: err.code, version: offer.version, module: offer.module }, err.message)
  await deps.channel.reportProgress(failureStep(err), progressDesc(err), offer.module)
  if (err.code === 'ERR_ABORTED') return err
  try {
    await persistence.stop({ ok: false, error: err, resumable: false })
  } catch (stopError) {
    deps.logger.warn({ err: (stopError as Error).message }, 'persistence stop failed after a refusal')
  }
  return err
}

/**
 * After a deferral the offer is asked for again (`firmware/get`): its URL may have expired, and
 * the platform may have withdrawn or replaced it. Without a connection, or without an answer
 * (a plain broker), the offer held is used.
 */
export async function refreshOffer(deps: RefusalDeps, offer: FirmwareOffer): Promise<FirmwareOffer> {
  const { channel, logger } = deps
  const closing = deps.closing.signal
  if (!channel.session.connected) return offer
  let fresh: FirmwareOffer | undefined
  try {
    fresh = await channel.requestFirmware(offer.module, { signal: closing })
  } catch (error) {
    if (closing.aborted) throw error
    logger.info(
      { code: toLinkkitError(error, 'ERR_REQUEST_TIMEOUT').code },
      'offer not refreshed; using the one held',
    )
    return offer
  }
  if (fresh === undefined) {
    throw new LinkkitError('ERR_OFFER_WITHDRAWN', `the platform no longer offers firmware ${offer.version}`)
  }
  if (!sameOffer(fresh, offer)) {
    const next = fresh
    // After this download has given way, like any other offer (autoDownload takes it).
    setImmediate(() => deps.replaced(next))
    throw new LinkkitError(
      'ERR_OFFER_WITHDRAWN',
      `firmware ${offer.version} was replaced by ${fresh.version}`,
    )
  }
  return fresh
}

/** The progress `desc` of a failure: its message, within the 128 characters the platform keeps. */
export function progressDesc(error: LinkkitError): string {
  return error.message.slice(0, 128)
}

/** An abort whose reason is the client's close is that close. */
function closing(error: LinkkitError, closed: AbortSignal): LinkkitError {
  if (!closed.aborted || (error.code !== 'ERR_ABORTED' && error.code !== 'ERR_CLOSED')) return error
  return closed.reason instanceof LinkkitError ? closed.reason : error
}
