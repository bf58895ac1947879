import type { ThingParam, TslSpec } from '@linkkit/thing-model'

/** A source of numbers in [0, 1); tests pass a seeded one. */
export type Random = () => number

/** Numbers are drawn from this window when the TSL leaves the type's whole range open. */
const OPEN_RANGE = 1000
const MAX_ARRAY_ITEMS = 3
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'

/**
 * A value that satisfies `spec` as the thing model checks it: numbers within min/max (integers for
 * int), bool as 0/1, a declared enum key, text within its length, a date as UTC milliseconds,
 * every struct member, and 1–3 array items.
 */
export function sampleValue(spec: TslSpec, random: Random = Math.random): unknown {
  switch (spec.type) {
    case 'int': {
      const [min, max] = window(spec.min, spec.max)
      return Math.ceil(min) + Math.floor(random() * (Math.floor(max) - Math.ceil(min) + 1))
    }
    case 'float':
    case 'double': {
      const [min, max] = window(spec.min, spec.max)
      const value = Math.round((min + random() * (max - min)) * 100) / 100
      return Math.min(max, Math.max(min, value))
    }
    case 'text': {
      const length = Math.min(spec.length, 4 + Math.floor(random() * 8))
      return Array.from({ length }, () => ALPHABET[Math.floor(random() * ALPHABET.length)]).join('')
    }
    case 'date':
      return String(Date.now())
    case 'bool':
      return random() < 0.5 ? 0 : 1
    case 'enum':
      return spec.values[Math.floor(random() * spec.values.length)] ?? 0
    case 'struct':
      return Object.fromEntries(spec.members.map((m) => [m.identifier, sampleValue(m.spec, random)]))
    case 'array': {
      const count = 1 + Math.floor(random() * Math.min(spec.size, MAX_ARRAY_ITEMS))
      return Array.from({ length: count }, () => sampleValue(spec.item, random))
    }
  }
}

/** One value per parameter (properties, or a service's `outputData`). */
export function sampleParams(
  params: readonly ThingParam[],
  random: Random = Math.random,
): Record<string, unknown> {
  return Object.fromEntries(params.map((p) => [p.identifier, sampleValue(p.spec, random)]))
}

/** The declared range, or a window of it around 0 (or its nearest end) when it is wider than that. */
function window(min: number, max: number): [number, number] {
  if (max - min <= 2 * OPEN_RANGE) return [min, max]
  const center = Math.min(max, Math.max(min, 0))
  const low = Math.max(min, center - OPEN_RANGE)
  return [low, Math.min(max, low + 2 * OPEN_RANGE)]
}
