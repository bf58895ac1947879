import { describe, expect, it } from 'vitest'
import { ProductTsl } from '../src/tsl/model.js'

/** TSL documents (docs/protocol.md §2.5) the emulator's own parser refuses, with where and why. */

const int = (min: string, max: string) => ({ type: 'int', specs: { min, max, step: '1' } })

describe('TSL documents the emulator refuses (ERR_TSL_INVALID)', () => {
  const prop = (dataType: unknown, extra: object = {}) => ({
    properties: [{ identifier: 'p', accessMode: 'rw', dataType, ...extra }],
  })
  it.each([
    ['not an object', [], ''],
    ['properties not a list', { properties: {} }, 'properties'],
    [
      'no accessMode',
      { properties: [{ identifier: 'p', dataType: int('0', '1') }] },
      'properties[0].accessMode',
    ],
    ['accessMode w', prop(int('0', '1'), { accessMode: 'w' }), 'properties[0].accessMode'],
    [
      'identifier with a slash',
      { properties: [{ identifier: 'a/b', accessMode: 'r', dataType: int('0', '1') }] },
      'properties[0].identifier',
    ],
    ['unknown type', prop({ type: 'int64' }), 'properties[0].dataType.type'],
    ['min above max', prop(int('5', '1')), 'properties[0].dataType.specs'],
    ['min not a number', prop(int('zero', '1')), 'properties[0].dataType.specs.min'],
    ['step 0', prop({ type: 'float', specs: { step: '0' } }), 'properties[0].dataType.specs.step'],
    [
      'text longer than 10240',
      prop({ type: 'text', specs: { length: '10241' } }),
      'properties[0].dataType.specs.length',
    ],
    ['enum with no value', prop({ type: 'enum', specs: {} }), 'properties[0].dataType.specs'],
    [
      'enum key not an integer',
      prop({ type: 'enum', specs: { on: 'x' } }),
      'properties[0].dataType.specs.on',
    ],
    ['bool key 2', prop({ type: 'bool', specs: { '2': 'x' } }), 'properties[0].dataType.specs.2'],
    [
      'struct in a struct',
      prop({ type: 'struct', specs: [{ identifier: 'x', dataType: { type: 'struct', specs: [] } }] }),
      'properties[0].dataType.specs[0].dataType.type',
    ],
    [
      'array of arrays',
      prop({ type: 'array', specs: { size: '2', item: { type: 'array', specs: { size: '1' } } } }),
      'properties[0].dataType.specs.item.type',
    ],
    [
      'array of dates',
      prop({ type: 'array', specs: { size: '2', item: { type: 'date' } } }),
      'properties[0].dataType.specs.item.type',
    ],
    [
      'array size 513',
      prop({ type: 'array', specs: { size: '513', item: int('0', '1') } }),
      'properties[0].dataType.specs.size',
    ],
    ['event type fatal', { events: [{ identifier: 'x', type: 'fatal' }] }, 'events[0].type'],
    ['callType later', { services: [{ identifier: 'x', callType: 'later' }] }, 'services[0].callType'],
    ['service twice', { services: [{ identifier: 'x' }, { identifier: 'x' }] }, 'services[1].identifier'],
  ])('%s', (_, document, path) => {
    expect(() => new ProductTsl(document)).toThrow(
      expect.objectContaining({ code: 'ERR_TSL_INVALID', details: expect.objectContaining({ path }) }),
    )
  })

  it('reads a document that declares the built-ins, and derives them whatever it says', () => {
    const model = new ProductTsl({
      properties: [{ identifier: 'p', accessMode: 'r', dataType: int('0', '1') }],
      services: [
        { identifier: 'set', callType: 'sync' },
        { identifier: 'get', inputData: 'all' },
      ],
      events: [{ identifier: 'post', outputData: [] }],
    })
    expect(model.callType('set')).toBe('async')
    expect(() => model.assertServiceInput('set', { p: 1 })).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ rule: 'readonly' }) }),
    )
    expect(model.checkEvent('post', {}).map((e) => e.details?.platformCode)).toEqual([6300])
  })
})
