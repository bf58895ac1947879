import { beforeAll, describe, expect, it } from 'vitest'
import { loadThingModel, type ThingModel } from '../src/tsl/index.js'
import { lampPath, thrown } from './fixtures/helpers.js'

let lamp: ThingModel
beforeAll(async () => {
  lamp = await loadThingModel(lampPath)
})

const fullPost = {
  LightSwitch: 1,
  Brightness: 80,
  ColorTemperature: 4000,
  Temperature: 36.6,
  PowerConsumption: 12.34,
  Label: 'desk lamp',
  LastOnTime: '1635839462000',
  WorkMode: 2,
  RGBColor: { Red: 255, Green: 128, Blue: 0 },
  DimLevels: [10, 40, 70, 100],
  Timers: [{ Hour: 7, Minute: 30, Action: 1, Enabled: 1, Note: 'wake up' }],
}

describe('property post', () => {
  it('accepts a post with a valid value of every data type', () => {
    expect(() => lamp.validateProperties(fullPost)).not.toThrow()
  })

  it('accepts { value, time } samples and checks the inner value and the time', () => {
    expect(() => lamp.validateProperties({ Brightness: { value: 50, time: 1700000000000 } })).not.toThrow()
    expect(() =>
      lamp.validateProperties({ RGBColor: { value: { Red: 1, Green: 2, Blue: 3 } } }),
    ).not.toThrow()
    expect(
      thrown(() => lamp.validateProperties({ Brightness: { value: 101, time: 1 } })).details,
    ).toMatchObject({
      identifier: 'Brightness',
      rule: 'max',
      platformCode: 6306,
    })
    expect(
      thrown(() => lamp.validateProperties({ Brightness: { value: 5, time: -1 } })).details,
    ).toMatchObject({
      identifier: 'Brightness',
      rule: 'time',
      platformCode: 6305,
    })
  })

  it('refuses a property the product does not have with ERR_TSL_UNKNOWN_IDENTIFIER and code 6320', () => {
    const error = thrown(() => lamp.validateProperties({ Brightness: 1, Volume: 3 }))
    expect(error.code).toBe('ERR_TSL_UNKNOWN_IDENTIFIER')
    expect(error.details).toMatchObject({ identifier: 'Volume', rule: 'unknown', platformCode: 6320 })
  })

  it('refuses params that are not an object with code 6301', () => {
    const error = thrown(() => lamp.validateProperties([1] as unknown as Record<string, unknown>))
    expect(error.details).toMatchObject({ identifier: '', rule: 'type', platformCode: 6301 })
  })

  it('throws the first failure in params order', () => {
    const error = thrown(() => lamp.validateProperties({ Brightness: 1, WorkMode: 9, Label: 7 }))
    expect(error.details).toMatchObject({ identifier: 'WorkMode', rule: 'enum', platformCode: 6309 })
  })

  it('checkProperties keeps the valid entries and lists every failure, as the platform drops them', () => {
    const result = lamp.checkProperties({
      Brightness: 50,
      WorkMode: 9,
      Volume: 1,
      Temperature: { value: 20.5 },
    })
    expect(result.ok).toBe(false)
    expect(result.errors.map((e) => [e.code, e.details?.identifier, e.details?.platformCode])).toEqual([
      ['ERR_TSL_VALIDATION', 'WorkMode', 6309],
      ['ERR_TSL_UNKNOWN_IDENTIFIER', 'Volume', 6320],
    ])
    expect(result.valid).toEqual({ Brightness: 50, Temperature: { value: 20.5 } })
    expect(lamp.checkProperties(fullPost)).toEqual({ ok: true, errors: [], valid: fullPost })
  })
})

describe('property set (writableOnly)', () => {
  it('accepts writable properties', () => {
    expect(() =>
      lamp.validateProperties(
        { Brightness: 10, RGBColor: { Red: 0, Green: 0, Blue: 0 } },
        { writableOnly: true },
      ),
    ).not.toThrow()
  })

  it('refuses a read-only property with rule readonly and code 6304', () => {
    const error = thrown(() => lamp.validateProperties({ Temperature: 20.5 }, { writableOnly: true }))
    expect(error.code).toBe('ERR_TSL_VALIDATION')
    expect(error.details).toMatchObject({ identifier: 'Temperature', rule: 'readonly', platformCode: 6304 })
  })

  it('refuses { value, time } samples, which only posts carry', () => {
    const error = thrown(() => lamp.validateProperties({ Brightness: { value: 10 } }, { writableOnly: true }))
    expect(error.details).toMatchObject({ identifier: 'Brightness', rule: 'type', platformCode: 6306 })
  })

  it('is what the built-in set service checks', () => {
    expect(() => lamp.validateServiceInput('set', { WorkMode: 1 })).not.toThrow()
    expect(thrown(() => lamp.validateServiceInput('set', { LastOnTime: '1' })).details?.rule).toBe('readonly')
    expect(lamp.service('set')?.inputData.map((p) => p.identifier)).toEqual([
      'LightSwitch',
      'Brightness',
      'ColorTemperature',
      'Label',
      'WorkMode',
      'RGBColor',
      'DimLevels',
      'Timers',
    ])
  })
})

describe('events', () => {
  it('knows declared events and the built-in post', () => {
    expect(lamp.events.map((e) => [e.identifier, e.type, e.method])).toEqual([
      ['post', 'info', 'thing.event.property.post'],
      ['lowpower', 'alert', 'thing.event.lowpower.post'],
      ['Error', 'error', 'thing.event.Error.post'],
    ])
    expect(lamp.hasEvent('lowpower')).toBe(true)
    expect(lamp.hasEvent('post')).toBe(true)
    expect(lamp.hasEvent('overheat')).toBe(false)
  })

  it('accepts bare and { value, time } wrapped params', () => {
    expect(() => lamp.validateEventParams('lowpower', { power: 10 })).not.toThrow()
    expect(() =>
      lamp.validateEventParams('lowpower', { value: { power: 10 }, time: 1700000000000 }),
    ).not.toThrow()
    expect(
      thrown(() => lamp.validateEventParams('lowpower', { value: { power: 101 } })).details,
    ).toMatchObject({
      identifier: 'power',
      rule: 'max',
    })
    expect(
      thrown(() => lamp.validateEventParams('lowpower', { value: { power: 1 }, time: 'now' })).details,
    ).toMatchObject({
      identifier: 'time',
      rule: 'time',
    })
  })

  it('refuses an undeclared param with code 6304 and an unknown event with code 6300', () => {
    const param = thrown(() => lamp.validateEventParams('lowpower', { power: 1, voltage: 3 }))
    expect([param.code, param.details?.identifier, param.details?.platformCode]).toEqual([
      'ERR_TSL_UNKNOWN_IDENTIFIER',
      'voltage',
      6304,
    ])
    const event = thrown(() => lamp.validateEventParams('overheat', {}))
    expect([event.code, event.details?.identifier, event.details?.platformCode]).toEqual([
      'ERR_TSL_UNKNOWN_IDENTIFIER',
      'overheat',
      6300,
    ])
    expect(lamp.checkEventParams('overheat', {}).errors).toHaveLength(1)
  })

  it('checks the post event as a property post', () => {
    expect(() => lamp.validateEventParams('post', { Brightness: { value: 3, time: 1 } })).not.toThrow()
    expect(thrown(() => lamp.validateEventParams('post', { Brightness: 300 })).details?.rule).toBe('max')
  })

  it('checkEventParams reports every failure, including a bad time', () => {
    const result = lamp.checkEventParams('Error', { value: { ErrorCode: 7, Detail: 3 }, time: -5 })
    expect(result.errors.map((e) => e.details?.rule)).toEqual(['time', 'enum', 'type'])
    expect(result.ok).toBe(false)
  })
})

describe('services', () => {
  it('knows call types and refuses unknown services with code 6300', () => {
    expect(lamp.serviceCallType('wakeup')).toBe('async')
    expect(lamp.serviceCallType('Blink')).toBe('sync')
    expect(lamp.serviceCallType('set')).toBe('async')
    expect(lamp.hasService('get')).toBe(true)
    expect(lamp.hasService('reboot')).toBe(false)
    expect(thrown(() => lamp.serviceCallType('reboot')).details).toMatchObject({
      identifier: 'reboot',
      platformCode: 6300,
    })
    expect(thrown(() => lamp.validateServiceInput('reboot', {})).code).toBe('ERR_TSL_UNKNOWN_IDENTIFIER')
  })

  it('checks inputData, including struct params', () => {
    expect(() => lamp.validateServiceInput('wakeup', { delaySeconds: 10 })).not.toThrow()
    expect(thrown(() => lamp.validateServiceInput('wakeup', { delaySeconds: 3601 })).details?.rule).toBe(
      'max',
    )
    const error = thrown(() =>
      lamp.validateServiceInput('Blink', { times: 2, color: { Red: 1, Green: 2, Blue: 300 } }),
    )
    expect(error.details).toMatchObject({ identifier: 'color.Blue', rule: 'max', platformCode: 6306 })
  })

  it('checks outputData', () => {
    expect(() => lamp.validateServiceOutput('wakeup', { out: 1 })).not.toThrow()
    expect(() => lamp.validateServiceOutput('Blink', { done: 1, durationMs: 812.25 })).not.toThrow()
    expect(thrown(() => lamp.validateServiceOutput('Blink', { done: true })).details).toMatchObject({
      identifier: 'done',
      rule: 'type',
      platformCode: 6308,
    })
    expect(
      lamp.checkServiceOutput('wakeup', { out: 256, extra: 1 }).errors.map((e) => e.details?.platformCode),
    ).toEqual([6306, 6304])
  })

  it('checks the built-in get: identifiers in, property values out', () => {
    expect(() => lamp.validateServiceInput('get', ['Brightness', 'Temperature'])).not.toThrow()
    expect(thrown(() => lamp.validateServiceInput('get', ['Brightness', 'Volume'])).details).toMatchObject({
      identifier: 'Volume',
      platformCode: 6320,
    })
    expect(thrown(() => lamp.validateServiceInput('get', 'Brightness')).details?.platformCode).toBe(6301)
    expect(lamp.checkServiceInput('get', ['Brightness', 'Volume']).valid).toEqual({ Brightness: true })
    expect(() => lamp.validateServiceOutput('get', { Temperature: 20.5 })).not.toThrow()
    expect(thrown(() => lamp.validateServiceOutput('get', { Temperature: '20.5' })).details?.rule).toBe(
      'type',
    )
  })
})

describe('definitions', () => {
  it('exposes each property with its document dataType and compiled spec', () => {
    const brightness = lamp.property('Brightness')
    expect(brightness?.accessMode).toBe('rw')
    expect(brightness?.spec).toEqual({ type: 'int', min: 0, max: 100, step: 1, unit: '%' })
    expect(brightness?.dataType).toMatchObject({ type: 'int', specs: { min: '0', max: '100' } })
    expect(lamp.hasProperty('Volume')).toBe(false)
    expect(lamp.property('Volume')).toBeUndefined()
  })
})
