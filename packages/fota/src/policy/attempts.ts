import type { FirmwareOffer } from '../types.js'

/** At most this many offers are remembered; the oldest is forgotten first. */
const MAX_OFFERS = 64

/** The identity of an offer for the retry budget: module, version and digest. */
export function offerKey(offer: FirmwareOffer): string {
  return `${offer.module ?? 'default'}\u0000${offer.version}\u0000${offer.digest}`
}

/** Whether two offers name the same package (a re-push, or a fresher copy with a new URL). */
export function sameOffer(a: FirmwareOffer, b: FirmwareOffer): boolean {
  return offerKey(a) === offerKey(b)
}

/** Failed downloads per offer, for the `retryBudget` policy. Bounded, so hostile offers cannot grow it. */
export class OfferAttempts {
  /** Made on the first failure: most devices never see one. */
  #failures: Map<string, { count: number; lastAt: number }> | undefined

  /** Failures of this offer so far and when the last one happened. */
  of(offer: FirmwareOffer): { failures: number; lastFailureAt: number | undefined } {
    const entry = this.#failures?.get(offerKey(offer))
    return { failures: entry?.count ?? 0, lastFailureAt: entry?.lastAt }
  }

  failed(offer: FirmwareOffer, at: number): void {
    const key = offerKey(offer)
    this.#failures ??= new Map()
    const failures = this.#failures
    const count = (failures.get(key)?.count ?? 0) + 1
    failures.delete(key)
    failures.set(key, { count, lastAt: at })
    if (failures.size > MAX_OFFERS) failures.delete(failures.keys().next().value as string)
  }

  succeeded(offer: FirmwareOffer): void {
    this.#failures?.delete(offerKey(offer))
  }
}
