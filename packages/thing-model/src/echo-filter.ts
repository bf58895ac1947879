/** How many unanswered echoes are remembered before the oldest is forgotten. */
const MAX_EXPECTED = 256

/**
 * An `/ext/rrpc` reply is published to the very topic the request came on (docs/protocol.md §2.2), and
 * a broker hands it back to us as we are subscribed there (MQTT 3.1.1 has no "no local"). The
 * filter remembers the topics we answered on so their echo is dropped before it is parsed, which
 * matters for raw replies whose bytes cannot be told from a request. The real platform does not
 * echo, so entries are bounded rather than waited for.
 */
export class EchoFilter {
  /** Made on the first reply: most devices never answer an `/ext/rrpc` request. */
  #expected: Map<string, number> | undefined

  /** Marks the next message on `topic` as our own, to be skipped once. */
  expect(topic: string): void {
    this.#expected ??= new Map()
    const expected = this.#expected
    expected.set(topic, (expected.get(topic) ?? 0) + 1)
    if (expected.size > MAX_EXPECTED) {
      const oldest = expected.keys().next()
      if (oldest.done !== true) expected.delete(oldest.value)
    }
  }

  /** True (and forgotten) when a message on `topic` is the echo of our own reply. */
  take(topic: string): boolean {
    const expected = this.#expected
    const count = expected?.get(topic)
    if (expected === undefined || count === undefined) return false
    if (count <= 1) expected.delete(topic)
    else expected.set(topic, count - 1)
    return true
  }
}
