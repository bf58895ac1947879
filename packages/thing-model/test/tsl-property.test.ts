import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ThingModel } from '../src/tsl/index.js'
import { rejectX, single } from './fixtures/helpers.js'

const passes = (model: ThingModel, value: unknown): boolean => model.checkProperties({ x: value }).ok
const ruleOf = (model: ThingModel, value: unknown): unknown => rejectX(model, value).rule

type Range = readonly [min: number, max: number]

const INT32 = { min: -2147483648, max: 2147483647 }
const intRange = fc
  .tuple(
    fc.integer({ min: INT32.min + 1, max: INT32.max - 1 }),
    fc.integer({ min: INT32.min + 1, max: INT32.max - 1 }),
  )
  .map(([a, b]): Range => (a <= b ? [a, b] : [b, a]))
const numberRange = fc
  .tuple(
    fc.double({ min: -1e300, max: 1e300, noNaN: true }),
    fc.double({ min: -1e300, max: 1e300, noNaN: true }),
  )
  // -0 + 0 is +0: a range [0, -0] would make fc.double({ min: 0, max: -0 }) refuse its bounds.
  .map(([a, b]): Range => (a <= b ? [a + 0, b + 0] : [b + 0, a + 0]))
const notNumber = fc.oneof(
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.nat(), { maxLength: 3 }),
  fc.object(),
)

describe('int (property-based)', () => {
  const model = ([min, max]: Range) =>
    single({ type: 'int', specs: { min: String(min), max: String(max), step: '1' } })

  it('accepts every integer within min–max', () => {
    fc.assert(
      fc.property(
        intRange.chain((r) => fc.tuple(fc.constant(r), fc.integer({ min: r[0], max: r[1] }))),
        ([range, v]) => passes(model(range), v),
      ),
    )
  })

  it('refuses integers below min with rule min and above max with rule max', () => {
    fc.assert(
      fc.property(intRange, fc.integer({ min: 1, max: 1e6 }), (range, d) => {
        const m = model(range)
        return ruleOf(m, range[0] - d) === 'min' && ruleOf(m, range[1] + d) === 'max'
      }),
    )
  })

  it('refuses fractions and non-numbers with rule type', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double({ noInteger: true }), notNumber, fc.integer().map(String)), (v) => {
        return ruleOf(model([INT32.min, INT32.max]), v) === 'type'
      }),
    )
  })
})

describe.each(['float', 'double'])('%s (property-based)', (type) => {
  const model = ([min, max]: Range) =>
    single({ type, specs: { min: String(min), max: String(max), step: '0.01' } })

  it('accepts every finite number within min–max', () => {
    fc.assert(
      fc.property(
        numberRange.chain((r) => fc.tuple(fc.constant(r), fc.double({ min: r[0], max: r[1], noNaN: true }))),
        ([range, v]) => passes(model(range), v),
      ),
    )
  })

  it('refuses numbers outside min–max with rule min or max', () => {
    fc.assert(
      fc.property(numberRange, fc.double({ min: 1e-300, max: 1e300, noNaN: true }), (range, d) => {
        const m = model(range)
        const below = range[0] - Math.max(d, Math.abs(range[0]) * 1e-15)
        const above = range[1] + Math.max(d, Math.abs(range[1]) * 1e-15)
        return ruleOf(m, below) === 'min' && ruleOf(m, above) === 'max'
      }),
    )
  })

  it('refuses NaN, infinities and non-numbers with rule type', () => {
    const bad = fc.oneof(
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
      notNumber,
    )
    fc.assert(fc.property(bad, (v) => ruleOf(model([-1, 1]), v) === 'type'))
  })
})

describe('text (property-based)', () => {
  const model = (length: number) => single({ type: 'text', specs: { length: String(length) } })

  it('accepts a string exactly when its UTF-8 size is at most length, astral ones included', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 64 })
          .chain((n) => fc.tuple(fc.constant(n), fc.string({ unit: 'binary', maxLength: n }))),
        ([n, s]) => {
          const bytes = Buffer.byteLength(s, 'utf8')
          if (bytes <= n) return passes(model(n), s)
          expect(rejectX(model(n), s)).toMatchObject({ rule: 'length', expected: n, actual: bytes })
          return true
        },
      ),
    )
  })

  it('refuses longer strings with rule length and the byte count', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 64 })
          .chain((n) =>
            fc.tuple(fc.constant(n), fc.string({ unit: 'binary', minLength: n + 1, maxLength: n + 20 })),
          ),
        ([n, s]) => {
          const details = rejectX(model(n), s)
          expect(details).toMatchObject({ rule: 'length', expected: n, actual: Buffer.byteLength(s, 'utf8') })
        },
      ),
    )
  })
})

describe('enum and bool (property-based)', () => {
  const keys = fc.uniqueArray(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 10 })
  const model = (ks: readonly number[]) =>
    single({ type: 'enum', specs: Object.fromEntries(ks.map((k) => [String(k), `label ${k}`])) })

  it('accepts exactly the declared keys and refuses other integers with rule enum', () => {
    fc.assert(
      fc.property(keys, fc.integer({ min: -2000, max: 2000 }), (ks, v) => {
        const m = model(ks)
        return ks.includes(v) ? passes(m, v) : ruleOf(m, v) === 'enum'
      }),
    )
  })

  it('bool accepts 0 and 1 only', () => {
    const bool = single({ type: 'bool', specs: { '0': 'off', '1': 'on' } })
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.boolean(), fc.string()), (v) =>
        v === 0 || v === 1 ? passes(bool, v) : ruleOf(bool, v) === (typeof v === 'number' ? 'enum' : 'type'),
      ),
    )
  })
})

describe('date (property-based)', () => {
  const model = single({ type: 'date', specs: {} })

  it('accepts any non-negative safe integer, as a number or as a string of digits', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        (ms) => passes(model, ms) && passes(model, String(ms)),
      ),
    )
  })

  it('refuses negative numbers and strings that are not digits', () => {
    const bad = fc.oneof(
      fc.integer({ min: Number.MIN_SAFE_INTEGER, max: -1 }),
      fc.string().filter((s) => !/^\d+$/.test(s)),
    )
    fc.assert(fc.property(bad, (v) => ruleOf(model, v) === 'type'))
  })
})

describe('array and struct (property-based)', () => {
  const struct = {
    type: 'struct',
    specs: [
      { identifier: 'h', dataType: { type: 'int', specs: { min: '0', max: '23' } } },
      { identifier: 'on', dataType: { type: 'bool', specs: {} } },
    ],
  }
  const item = fc.record({ h: fc.integer({ min: 0, max: 23 }), on: fc.constantFrom(0, 1) })
  const model = (size: number) => single({ type: 'array', specs: { size: String(size), item: struct } })

  it('accepts up to size valid struct items', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 20 })
          .chain((n) => fc.tuple(fc.constant(n), fc.array(item, { maxLength: n }))),
        ([n, items]) => passes(model(n), items),
      ),
    )
  })

  it('refuses more than size items with rule size', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 20 })
          .chain((n) => fc.tuple(fc.constant(n), fc.array(item, { minLength: n + 1, maxLength: n + 5 }))),
        ([n, items]) => ruleOf(model(n), items) === 'size',
      ),
    )
  })

  it('refuses an item with an undeclared member with rule member at that index', () => {
    const extra = fc.string({ minLength: 1 }).filter((k) => k !== 'h' && k !== 'on' && k !== '__proto__')
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 5 }), fc.nat(), extra, (items, i, key) => {
        const at = i % items.length
        const bad = items.map((it, j) => (j === at ? { ...it, [key]: 1 } : it))
        const details = rejectX(model(5), bad)
        expect(details).toMatchObject({ identifier: `x[${at}].${key}`, rule: 'member', actual: key })
      }),
    )
  })
})
