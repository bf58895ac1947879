import { describe, expect, it } from 'vitest'
import { ProductTsl } from '../src/tsl/model.js'

/**
 * The emulator's own TSL checker (src/tsl) against a table of values per data type and the code
 * the platform answers for each (docs/protocol.md §2.4, §2.5). `ok` means the value is kept.
 */

const int = (min: string, max: string) => ({ type: 'int', specs: { min, max, step: '1' } })
const TSL = {
  properties: [
    { identifier: 'i', accessMode: 'rw', dataType: int('-10', '100') },
    {
      identifier: 'f',
      accessMode: 'rw',
      dataType: { type: 'float', specs: { min: '0', max: '1', step: '0.1' } },
    },
    { identifier: 'd', accessMode: 'rw', dataType: { type: 'double', specs: { min: '-1', max: '1000000' } } },
    { identifier: 'n', accessMode: 'rw', dataType: { type: 'int' } },
    { identifier: 't', accessMode: 'rw', dataType: { type: 'text', specs: { length: '10' } } },
    { identifier: 'dt', accessMode: 'rw', dataType: { type: 'date', specs: {} } },
    { identifier: 'b', accessMode: 'rw', dataType: { type: 'bool', specs: { '0': 'off', '1': 'on' } } },
    {
      identifier: 'e',
      accessMode: 'rw',
      dataType: { type: 'enum', specs: { '0': 'a', '1': 'b', '5': 'c' } },
    },
    {
      identifier: 's',
      accessMode: 'rw',
      dataType: {
        type: 'struct',
        specs: [
          { identifier: 'Red', dataType: int('0', '255') },
          { identifier: 'Name', dataType: { type: 'text', specs: { length: '4' } } },
        ],
      },
    },
    {
      identifier: 'a',
      accessMode: 'rw',
      dataType: { type: 'array', specs: { size: '3', item: int('0', '9') } },
    },
    {
      identifier: 'as',
      accessMode: 'rw',
      dataType: {
        type: 'array',
        specs: {
          size: '2',
          item: { type: 'struct', specs: [{ identifier: 'H', dataType: int('0', '23') }] },
        },
      },
    },
    { identifier: 'r', accessMode: 'r', dataType: int('0', '1') },
  ],
  events: [
    {
      identifier: 'alarm',
      type: 'alert',
      outputData: [{ identifier: 'level', dataType: int('1', '3') }],
    },
  ],
  services: [
    {
      identifier: 'reboot',
      callType: 'sync',
      inputData: [{ identifier: 'delay', dataType: int('0', '60') }],
      outputData: [],
    },
  ],
}

const NOW = 1_767_225_600_000
const HOUR = 3_600_000
const tsl = new ProductTsl(TSL)

/** The platform code for posting `value` as `id`: 'ok' when kept. */
function postCode(id: string, value: unknown): number | 'ok' {
  const { errors, valid } = tsl.checkPost({ [id]: value }, NOW)
  if (errors.length === 0 && id in valid) return 'ok'
  return errors[0]?.details?.platformCode as number
}

// [property, value, code]
const TABLE: Array<[string, unknown, number | 'ok']> = [
  ['i', 0, 'ok'],
  ['i', -10, 'ok'],
  ['i', 100, 'ok'],
  ['i', 101, 6306],
  ['i', -11, 6306],
  ['i', 1.5, 6306],
  ['i', '5', 6306],
  ['i', true, 6306],
  ['i', null, 6306],
  ['n', 2 ** 31 - 1, 'ok'],
  ['n', 2 ** 31, 6306],
  ['n', -(2 ** 31), 'ok'],
  ['f', 0.5, 'ok'],
  ['f', 1, 'ok'],
  ['f', 1.01, 6307],
  ['f', '0.5', 6307],
  ['d', 999_999.99, 'ok'],
  ['d', -1.5, 6322],
  ['d', [1], 6322],
  ['t', 'desk lamp', 'ok'],
  ['t', '0123456789', 'ok'],
  ['t', '0123456789X', 6310],
  ['t', '温度计', 'ok'],
  ['t', '客厅的台灯', 6310],
  ['t', 42, 6310],
  ['dt', '1635839462000', 'ok'],
  ['dt', 1_635_839_462_000, 'ok'],
  ['dt', '2021-11-02', 6311],
  ['dt', '', 6311],
  ['dt', -1, 6311],
  ['dt', 1.5, 6311],
  ['b', 0, 'ok'],
  ['b', 1, 'ok'],
  ['b', 2, 6308],
  ['b', true, 6308],
  ['b', '1', 6308],
  ['e', 5, 'ok'],
  ['e', 2, 6309],
  ['e', '1', 6309],
  ['e', 1.5, 6309],
  ['s', { Red: 255, Name: 'abcd' }, 'ok'],
  ['s', { Red: 255 }, 6312],
  ['s', { Red: 1, Name: 'a', Blue: 2 }, 6312],
  ['s', [255, 'a'], 6312],
  ['s', { Red: 256, Name: 'a' }, 6306],
  ['s', { Red: 1, Name: 'abcde' }, 6310],
  ['a', [], 'ok'],
  ['a', [0, 9, 3], 'ok'],
  ['a', [0, 1, 2, 3], 6315],
  ['a', { 0: 1 }, 6315],
  ['a', [1, 10], 6306],
  ['as', [{ H: 23 }], 'ok'],
  ['as', [{ H: 24 }], 6306],
  ['as', [{ H: 1, M: 2 }], 6312],
  ['r', 1, 'ok'],
  ['nope', 1, 6320],
  ['i', { value: 5, time: NOW }, 'ok'],
  ['i', { value: 5 }, 'ok'],
  ['i', { value: 500, time: NOW }, 6306],
  ['i', { value: 5, time: -1 }, 6305],
  ['i', { value: 5, time: '1700000000000' }, 6305],
  ['i', { value: 5, time: NOW + 23 * HOUR }, 'ok'],
  ['i', { value: 5, time: NOW + 25 * HOUR }, 6305],
  ['i', { value: 5, time: NOW, extra: 1 }, 6306],
]

describe('TSL value checks: the code the platform answers per data type', () => {
  it.each(TABLE.map(([id, value, code]) => [id, JSON.stringify(value), code, value] as const))(
    '%s = %s → %s',
    (id, _shown, code, value) => {
      expect(postCode(id, value)).toBe(code)
    },
  )

  it('names the failing part of a struct or an array item in details.identifier', () => {
    const { errors } = tsl.checkPost({ s: { Red: 1, Name: 'toolong' }, as: [{ H: 1 }, { H: 99 }] }, NOW)
    expect(errors.map((e) => [e.code, e.details?.identifier, e.details?.rule])).toEqual([
      ['ERR_TSL_VALIDATION', 's.Name', 'length'],
      ['ERR_TSL_VALIDATION', 'as[1].H', 'max'],
    ])
  })

  it('keeps the entries that pass and reports every one that fails', () => {
    const { errors, valid } = tsl.checkPost({ i: 1, t: 'x'.repeat(11), b: 1, ghost: 0 }, NOW)
    expect(valid).toEqual({ i: 1, b: 1 })
    expect(errors.map((e) => [e.code, e.details?.platformCode])).toEqual([
      ['ERR_TSL_VALIDATION', 6310],
      ['ERR_TSL_UNKNOWN_IDENTIFIER', 6320],
    ])
  })
})

describe('TSL checks of events, sets and services', () => {
  const eventCodes = (id: string, params: unknown) =>
    tsl.checkEvent(id, params).map((e) => e.details?.platformCode)

  it.each([
    ['alarm', { level: 2 }, []],
    ['alarm', { value: { level: 2 }, time: NOW }, []],
    ['alarm', {}, []],
    ['alarm', { level: 4 }, [6306]],
    ['alarm', { level: 2, extra: 1 }, [6304]],
    ['alarm', { value: { level: 2 }, time: 'later' }, [6305]],
    ['alarm', 'level=2', [6301]],
    ['ghost', { level: 2 }, [6300]],
    // `post` is the property post's identifier, never an event of its own.
    ['post', { i: 1 }, [6300]],
  ])('event %s %j → %j', (id, params, codes) => {
    expect(eventCodes(id, params)).toEqual(codes)
  })

  const thrown = (run: () => void) => {
    try {
      run()
    } catch (error) {
      const { code, details } = error as { code: string; details?: { platformCode?: number } }
      return [code, details?.platformCode]
    }
    return 'ok'
  }

  it.each([
    ['set', { i: 1, b: 0 }, 'ok'],
    ['set', { r: 1 }, ['ERR_TSL_VALIDATION', 6304]],
    ['set', { nope: 1 }, ['ERR_TSL_UNKNOWN_IDENTIFIER', 6320]],
    ['set', { i: { value: 1, time: NOW } }, ['ERR_TSL_VALIDATION', 6306]],
    ['set', [1], ['ERR_TSL_VALIDATION', 6301]],
    ['get', ['i', 'r'], 'ok'],
    ['get', ['i', 'nope'], ['ERR_TSL_UNKNOWN_IDENTIFIER', 6320]],
    ['get', { i: 1 }, ['ERR_TSL_VALIDATION', 6301]],
    ['reboot', { delay: 5 }, 'ok'],
    ['reboot', { delay: 61 }, ['ERR_TSL_VALIDATION', 6306]],
    ['reboot', { now: true }, ['ERR_TSL_UNKNOWN_IDENTIFIER', 6304]],
    ['selfDestruct', {}, ['ERR_TSL_UNKNOWN_IDENTIFIER', 6300]],
  ])('service %s %j → %j', (id, params, expected) => {
    expect(thrown(() => tsl.assertServiceInput(id, params))).toEqual(expected)
  })

  it('knows how each service is called', () => {
    expect([tsl.callType('reboot'), tsl.callType('set'), tsl.callType('get'), tsl.callType('x')]).toEqual([
      'sync',
      'async',
      'async',
      undefined,
    ])
  })
})
