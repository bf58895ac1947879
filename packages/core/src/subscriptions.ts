import { topicMatches } from './topics.js'

/** MQTT QoS; the platform supports 0 and 1. */
export type Qos = 0 | 1

/**
 * The filters the session wants on the broker, reference-counted so two users of one filter
 * keep it until both let go. Restored after a reconnect whenever the broker lost the session.
 */
export class SubscriptionSet {
  readonly #filters = new Map<string, { qos: Qos; count: number }>()
  /** `covers` answers for topics asked before (every request asks for its reply topic); reset on any change. */
  readonly #covered = new Map<string, boolean>()

  /** Adds a reference; returns true when the filter is new (and must be sent to the broker). */
  add(filter: string, qos: Qos): boolean {
    this.#covered.clear()
    const entry = this.#filters.get(filter)
    if (entry) {
      entry.count++
      if (qos > entry.qos) {
        entry.qos = qos
        return true
      }
      return false
    }
    this.#filters.set(filter, { qos, count: 1 })
    return true
  }

  /** Drops a reference; returns true when the last one went (and the broker must be told). */
  release(filter: string): boolean {
    this.#covered.clear()
    const entry = this.#filters.get(filter)
    if (!entry) return false
    entry.count--
    if (entry.count > 0) return false
    this.#filters.delete(filter)
    return true
  }

  /** Whether some wanted filter already covers this topic. */
  covers(topic: string): boolean {
    let covered = this.#covered.get(topic)
    if (covered === undefined) {
      covered = false
      for (const filter of this.#filters.keys()) {
        if (topicMatches(filter, topic)) {
          covered = true
          break
        }
      }
      if (this.#covered.size >= 1024) this.#covered.clear()
      this.#covered.set(topic, covered)
    }
    return covered
  }

  /** The QoS a filter was subscribed with. */
  qos(filter: string): Qos {
    return this.#filters.get(filter)?.qos ?? 0
  }

  /** Every filter with its QoS, as MQTT.js's subscribe takes them. */
  entries(): Record<
    string,
    {
      /** The QoS asked for. */
      qos: Qos
    }
  > {
    const out: Record<string, { qos: Qos }> = {}
    for (const [filter, { qos }] of this.#filters) out[filter] = { qos }
    return out
  }

  /** How many filters are held. */
  get size(): number {
    return this.#filters.size
  }
}
