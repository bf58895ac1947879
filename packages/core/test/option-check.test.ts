import { describe, expect, it } from 'vitest'
import {
  booleanOption,
  checkOption,
  integerOption,
  nonEmptyStringRule,
  objectRule,
  oneOfOption,
  requireOption,
  urlRule,
} from '../src/index.js'

/** The one option checker every package's resolver uses (src/option-check.ts). */
describe('option checks', () => {
  it('gives the fallback for undefined and the value when it passes', () => {
    expect(integerOption(undefined, 'n', 7)).toBe(7)
    expect(integerOption(0, 'n', 7, { min: 0, max: 9 })).toBe(0)
    expect(booleanOption(undefined, 'b', true)).toBe(true)
    expect(booleanOption(false, 'b', true)).toBe(false)
    expect(oneOfOption(undefined, 'q', [0, 1], 0)).toBe(0)
    expect(oneOfOption('ext', 'rrpc', ['legacy', 'ext'], 'legacy')).toBe('ext')
    expect(checkOption(undefined, 's', nonEmptyStringRule, 'x')).toBe('x')
    const redis = urlRule({ protocols: ['redis:', 'rediss:'], must: 'a redis:// URL' })
    expect(requireOption('redis://127.0.0.1:6379', 'redisUrl', redis)).toBe('redis://127.0.0.1:6379')
  })

  it.each([
    [() => integerOption(1.5, 'n', 1), 'n must be an integer ≥ 1'],
    [() => integerOption(10, 'n', 1, { min: 0, max: 9 }), 'n must be an integer from 0 to 9'],
    [() => booleanOption(1, 'noDelay', false), 'noDelay must be true or false'],
    [() => oneOfOption(2, 'alinkQos', [0, 1], 0), 'alinkQos must be 0 or 1'],
    [
      () => oneOfOption('x', 'rrpc', ['legacy', 'ext', 'both'], 'both'),
      "rrpc must be 'legacy', 'ext' or 'both'",
    ],
    [() => requireOption('', 'deviceSecret', nonEmptyStringRule), 'deviceSecret must be a non-empty string'],
    [
      () => requireOption(undefined, 'deviceSecret', nonEmptyStringRule),
      'deviceSecret must be a non-empty string',
    ],
    [() => requireOption(null, 'options', objectRule), 'options must be an object'],
    [
      () => requireOption('redis://', 'u', urlRule({ protocols: ['redis:'], must: 'a URL' })),
      'u must be a URL',
    ],
    [
      () => requireOption('http://h', 'u', urlRule({ protocols: ['redis:'], must: 'a URL' })),
      'u must be a URL',
    ],
    [
      () => requireOption('not a url', 'u', urlRule({ protocols: ['redis:'], must: 'a URL' })),
      'u must be a URL',
    ],
  ])('refuses a bad value with ERR_INVALID_OPTIONS naming the option (%#)', (check, message) => {
    expect(check).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTIONS', message }))
    try {
      check()
    } catch (error) {
      expect(error).toMatchObject({ details: { name: message.split(' ')[0] } })
    }
  })

  it('accepts a URL without a host only when asked to', () => {
    const rule = urlRule({ protocols: ['mqtt:'], must: 'an mqtt:// URL', host: false })
    expect(requireOption('mqtt://', 'brokerUrl', rule)).toBe('mqtt://')
  })
})
