/** Without a thing model to bound the identifiers, at most this many distinct ones are kept. */
const MAX_IDENTIFIERS = 1024

function isSample(value: unknown): value is { value: unknown } {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, 'value'))
    return false
  for (const key in value) if (Object.hasOwn(value, key) && key !== 'value' && key !== 'time') return false
  return true
}

/**
 * The last value of each property the device posted or accepted from a cloud set, so a property
 * get can be answered without a handler. `{ value, time }` samples are stored as their value.
 */
export class ValueStore {
  readonly #values = new Map<string, unknown>()

  remember(values: Record<string, unknown>): void {
    // for…in over own keys: what Object.entries yields, without an array per post.
    for (const key in values) {
      if (!Object.hasOwn(values, key)) continue
      if (!this.#values.has(key) && this.#values.size >= MAX_IDENTIFIERS) continue
      const raw = values[key]
      this.#values.set(key, isSample(raw) ? raw.value : raw)
    }
  }

  has(identifier: string): boolean {
    return this.#values.has(identifier)
  }

  get(identifier: string): unknown {
    return this.#values.get(identifier)
  }

  snapshot(): Record<string, unknown> {
    return Object.fromEntries(this.#values)
  }
}
