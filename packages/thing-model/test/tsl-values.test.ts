import { describe, expect, it } from 'vitest'
import { rejectX, single } from './fixtures/helpers.js'

const num = (type: string, min: string, max: string, step = '1') =>
  single({ type, specs: { min, max, step } })

describe('int', () => {
  const model = num('int', '0', '100', '5')

  it.each([0, 100, 3, 55])('accepts %s (step is not enforced)', (v) => {
    expect(() => model.validateProperties({ x: v })).not.toThrow()
  })

  it('refuses values below min and above max with the int code 6306', () => {
    expect(rejectX(model, -1)).toEqual({
      identifier: 'x',
      rule: 'min',
      expected: 0,
      actual: -1,
      platformCode: 6306,
    })
    expect(rejectX(model, 101)).toEqual({
      identifier: 'x',
      rule: 'max',
      expected: 100,
      actual: 101,
      platformCode: 6306,
    })
  })

  it.each([1.5, 100.5, '5', Number.NaN, Number.POSITIVE_INFINITY, true, null, [1], { v: 1 }])(
    'refuses the non-integer %s with rule type',
    (v) => {
      expect(rejectX(model, v)).toMatchObject({ rule: 'type', expected: 'integer', platformCode: 6306 })
    },
  )

  it('uses the int32 range when min and max are absent', () => {
    const open = single({ type: 'int', specs: {} })
    expect(() => open.validateProperties({ x: 2147483647 })).not.toThrow()
    expect(rejectX(open, 2147483648)).toMatchObject({ rule: 'max' })
    expect(rejectX(open, -2147483649)).toMatchObject({ rule: 'min' })
  })
})

describe.each([
  ['float', 6307],
  ['double', 6322],
])('%s', (type, code) => {
  const model = num(type, '-1.5', '1.5', '0.1')

  it.each([-1.5, 1.5, 0, 1, 0.123456789])('accepts %s', (v) => {
    expect(() => model.validateProperties({ x: v })).not.toThrow()
  })

  it('refuses max + epsilon and min - epsilon', () => {
    const above = 1.5 + Number.EPSILON * 2
    expect(rejectX(model, above)).toEqual({
      identifier: 'x',
      rule: 'max',
      expected: 1.5,
      actual: above,
      platformCode: code,
    })
    expect(rejectX(model, -1.5000000000000002)).toMatchObject({ rule: 'min', platformCode: code })
  })

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '1.0', false, null])(
    'refuses %s with rule type',
    (v) => {
      expect(rejectX(model, v)).toMatchObject({ rule: 'type', expected: 'finite number', platformCode: code })
    },
  )
})

describe('text', () => {
  const model = single({ type: 'text', specs: { length: '5' } })

  it('accepts a string of exactly length UTF-8 bytes, counting an emoji as four', () => {
    expect(() => model.validateProperties({ x: 'abcde' })).not.toThrow()
    expect(() => model.validateProperties({ x: '😀a' })).not.toThrow()
    expect(() => model.validateProperties({ x: '' })).not.toThrow()
  })

  it('refuses length + 1 bytes with the string code 6310', () => {
    expect(rejectX(model, 'abcdef')).toEqual({
      identifier: 'x',
      rule: 'length',
      expected: 5,
      actual: 6,
      platformCode: 6310,
    })
    expect(rejectX(model, '😀😀')).toMatchObject({ rule: 'length', actual: 8 })
    expect(rejectX(model, '温度')).toMatchObject({ rule: 'length', actual: 6 })
  })

  it('refuses non-strings', () => {
    expect(rejectX(model, 12345)).toMatchObject({ rule: 'type', expected: 'string', platformCode: 6310 })
  })

  it('defaults to the platform limit of 10240', () => {
    const open = single({ type: 'text', specs: {} })
    expect(() => open.validateProperties({ x: 'a'.repeat(10240) })).not.toThrow()
    expect(rejectX(open, 'a'.repeat(10241))).toMatchObject({ rule: 'length', expected: 10240, actual: 10241 })
  })
})

describe('date', () => {
  const model = single({ type: 'date', specs: {} })

  it.each(['1635839462000', '0', 1635839462000, 0])(
    'accepts %j (UTC ms string, or a non-negative integer)',
    (v) => {
      expect(() => model.validateProperties({ x: v })).not.toThrow()
    },
  )

  it.each(['', '-1', '16358a', '1e12', ' 1', '99999999999999999', -1, 1.5, true, null])('refuses %j', (v) => {
    expect(rejectX(model, v)).toMatchObject({ rule: 'type', platformCode: 6311 })
  })
})

describe('bool', () => {
  const model = single({ type: 'bool', specs: { '0': 'off', '1': 'on' } })

  it('accepts the integers 0 and 1', () => {
    expect(() => model.validateProperties({ x: 0 })).not.toThrow()
    expect(() => model.validateProperties({ x: 1 })).not.toThrow()
  })

  it('refuses true and false with a message that says to send 0 or 1', () => {
    expect(rejectX(model, true)).toEqual({
      identifier: 'x',
      rule: 'type',
      expected: '0 or 1',
      actual: true,
      platformCode: 6308,
    })
    expect(() => model.validateProperties({ x: false })).toThrow(/integer 0 or 1, got the boolean false/)
  })

  it('refuses other integers with rule enum and other types with rule type', () => {
    expect(rejectX(model, 2)).toMatchObject({ rule: 'enum', expected: [0, 1], platformCode: 6308 })
    expect(rejectX(model, '1')).toMatchObject({ rule: 'type', platformCode: 6308 })
    expect(rejectX(model, 0.5)).toMatchObject({ rule: 'type' })
  })
})

describe('enum', () => {
  const model = single({ type: 'enum', specs: { '-1': 'unknown', '0': 'a', '2': 'c' } })

  it.each([-1, 0, 2])('accepts the declared key %s', (v) => {
    expect(() => model.validateProperties({ x: v })).not.toThrow()
  })

  it('refuses an undeclared key with the enum code 6309', () => {
    expect(rejectX(model, 1)).toMatchObject({ rule: 'enum', actual: 1, platformCode: 6309 })
    expect((rejectX(model, 3).expected as number[]).toSorted()).toEqual([-1, 0, 2])
  })

  it.each(['0', 0.5, null])('refuses %j with rule type', (v) => {
    expect(rejectX(model, v)).toMatchObject({ rule: 'type', platformCode: 6309 })
  })
})

describe('struct', () => {
  const model = single({
    type: 'struct',
    specs: [
      { identifier: 'a', name: 'a', dataType: { type: 'int', specs: { min: '0', max: '10' } } },
      { identifier: 'b', name: 'b', dataType: { type: 'text', specs: { length: '3' } } },
    ],
  })

  it('accepts an object with exactly its members', () => {
    expect(() => model.validateProperties({ x: { a: 1, b: 'xyz' } })).not.toThrow()
  })

  it('names the member in a dotted identifier and uses the member type code', () => {
    expect(rejectX(model, { a: 11, b: 'x' })).toEqual({
      identifier: 'x.a',
      rule: 'max',
      expected: 10,
      actual: 11,
      platformCode: 6306,
    })
    expect(rejectX(model, { a: 1, b: 'long' })).toMatchObject({
      identifier: 'x.b',
      rule: 'length',
      platformCode: 6310,
    })
  })

  it('refuses an unknown member and a missing member with the struct code 6312', () => {
    expect(rejectX(model, { a: 1, b: 'x', c: 2 })).toEqual({
      identifier: 'x.c',
      rule: 'member',
      expected: ['a', 'b'],
      actual: 'c',
      platformCode: 6312,
    })
    expect(rejectX(model, { a: 1 })).toMatchObject({
      identifier: 'x.b',
      rule: 'required',
      platformCode: 6312,
    })
  })

  it.each([[[]], [null], ['{}']])('refuses the non-object %j', (v) => {
    expect(rejectX(model, v)).toMatchObject({
      identifier: 'x',
      rule: 'type',
      expected: 'object',
      platformCode: 6312,
    })
  })
})

describe('array', () => {
  const ints = single({
    type: 'array',
    specs: { size: '3', item: { type: 'int', specs: { min: '0', max: '9' } } },
  })

  it('accepts up to size items of the item type', () => {
    expect(() => ints.validateProperties({ x: [] })).not.toThrow()
    expect(() => ints.validateProperties({ x: [0, 5, 9] })).not.toThrow()
  })

  it('refuses size + 1 items with rule size', () => {
    expect(rejectX(ints, [1, 2, 3, 4])).toEqual({
      identifier: 'x',
      rule: 'size',
      expected: 3,
      actual: 4,
      platformCode: 6315,
    })
  })

  it('names the bad item by index with the item type code', () => {
    expect(rejectX(ints, [1, '2'])).toMatchObject({ identifier: 'x[1]', rule: 'type', platformCode: 6306 })
    expect(rejectX(ints, [1, 2, 10])).toMatchObject({ identifier: 'x[2]', rule: 'max' })
    expect(rejectX(ints, { 0: 1 })).toMatchObject({ identifier: 'x', rule: 'type', expected: 'array' })
  })

  it('checks struct items member by member', () => {
    const structs = single({
      type: 'array',
      specs: {
        size: '2',
        item: {
          type: 'struct',
          specs: [{ identifier: 'h', dataType: { type: 'int', specs: { min: '0', max: '23' } } }],
        },
      },
    })
    expect(() => structs.validateProperties({ x: [{ h: 0 }, { h: 23 }] })).not.toThrow()
    expect(rejectX(structs, [{ h: 1 }, { h: 24 }])).toMatchObject({
      identifier: 'x[1].h',
      rule: 'max',
      platformCode: 6306,
    })
    expect(rejectX(structs, [{ h: 1, m: 2 }])).toMatchObject({ identifier: 'x[0].m', rule: 'member' })
  })

  it('accepts 512 items at the largest size and refuses 513', () => {
    const big = single({ type: 'array', specs: { size: '512', item: { type: 'double', specs: {} } } })
    expect(() => big.validateProperties({ x: new Array(512).fill(0.5) })).not.toThrow()
    expect(rejectX(big, new Array(513).fill(0.5))).toMatchObject({ rule: 'size', expected: 512, actual: 513 })
  })
})
