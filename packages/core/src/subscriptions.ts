import type { MqttClient } from 'mqtt'
import { LinkkitError } from './errors.js'
import { topicMatches } from './topics.js'

/** MQTT QoS; the platform supports 0 and 1. */
export type Qos = 0 | 1

/**
 * The filters the session wants on the broker, reference-counted so two users of one filter
 * keep it until both let go. Restored after a reconnect whenever the broker lost the session.
 */
class SubscriptionSet {
  /**
   * Each filter's QoS and reference count in one small integer (`count * 2 + qos`), not an object
   * each: a device holds some sixteen filters for its whole life, and a fleet thousands of devices.
   */
  readonly #filters = new Map<string, number>()
  /** `covers` answers for topics asked before (every request asks for its reply topic); reset on any change. */
  readonly #covered = new Map<string, boolean>()

  /** Adds a reference; returns true when the filter is new (and must be sent to the broker). */
  add(filter: string, qos: Qos): boolean {
    this.#covered.clear()
    const entry = this.#filters.get(filter)
    if (entry !== undefined) {
      const held = (entry & 1) as Qos
      const granted = qos > held ? qos : held
      this.#filters.set(filter, entry - held + 2 + granted)
      return qos > held
    }
    this.#filters.set(filter, 2 + qos)
    return true
  }

  /** Drops a reference; returns true when the last one went (and the broker must be told). */
  release(filter: string): boolean {
    this.#covered.clear()
    const entry = this.#filters.get(filter)
    if (entry === undefined) return false
    if (entry >= 4) {
      this.#filters.set(filter, entry - 2)
      return false
    }
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
    return ((this.#filters.get(filter) ?? 0) & 1) as Qos
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
    for (const [filter, entry] of this.#filters) out[filter] = { qos: (entry & 1) as Qos }
    return out
  }

  /** How many filters are held. */
  get size(): number {
    return this.#filters.size
  }
}

/**
 * A connection's subscriptions on the broker: each filter is SUBSCRIBEd when first wanted (or
 * wanted at a higher QoS) while connected, UNSUBSCRIBEd when the last user lets go, and all are
 * SUBSCRIBEd again on a fresh session. `client` returns the MQTT client while connected.
 */
export class BrokerSubscriptions {
  readonly #set = new SubscriptionSet()
  readonly #client: () => MqttClient | undefined

  constructor(client: () => MqttClient | undefined) {
    this.#client = client
  }

  /** Whether some wanted filter already covers this topic. */
  covers(topic: string): boolean {
    return this.#set.covers(topic)
  }

  /**
   * Wants `filter`; resolves once the broker granted it (at once while not connected: `restore`
   * makes it then), or rejects with ERR_SUBSCRIBE_FAILED. Each `add` is undone by one `release`.
   */
  async add(filter: string, qos: Qos): Promise<void> {
    if (!this.#set.add(filter, qos)) return
    const client = this.#client()
    if (client === undefined) return
    try {
      await subscribeOn(client, { [filter]: { qos: this.#set.qos(filter) } })
    } catch (error) {
      this.#set.release(filter)
      throw error
    }
  }

  /** Lets go of one `add` of `filter`; the last one UNSUBSCRIBEs it while connected. */
  async release(filter: string): Promise<void> {
    if (this.#set.release(filter)) await this.#client()?.unsubscribeAsync(filter)
  }

  /** SUBSCRIBEs every wanted filter on `client` (a session the broker did not keep). */
  restore(client: MqttClient): Promise<void> {
    return subscribeOn(client, this.#set.entries())
  }
}

/**
 * SUBSCRIBEs `filters`; a refusal (SUBACK 0x80, which MQTT.js 5 rejects with the SUBACK packet
 * attached, and older versions returned in the granted list) becomes ERR_SUBSCRIBE_FAILED naming
 * the refused filters, as does any other failure of the SUBSCRIBE.
 */
async function subscribeOn(client: MqttClient, filters: Record<string, { qos: Qos }>): Promise<void> {
  const names = Object.keys(filters)
  if (names.length === 0) return
  let granted: Array<{ topic: string; qos: number }>
  try {
    granted = await client.subscribeAsync(filters)
  } catch (error) {
    const codes = (error as { packet?: { granted?: unknown } }).packet?.granted
    const refused = Array.isArray(codes)
      ? names.filter((_, i) => typeof codes[i] === 'number' && (codes[i] & 0x80) !== 0)
      : names
    throw refusal(refused.length > 0 ? refused : names, error)
  }
  const refused = granted.filter((g) => (g.qos & 0x80) !== 0).map((g) => g.topic)
  if (refused.length > 0) throw refusal(refused)
}

function refusal(refused: string[], cause?: unknown): LinkkitError {
  return new LinkkitError('ERR_SUBSCRIBE_FAILED', `broker refused subscription to ${refused.join(', ')}`, {
    topic: refused[0],
    cause,
    details: { refused },
  })
}
