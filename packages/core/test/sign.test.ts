import { describe, expect, it } from 'vitest'
import { formatClientId, hexEquals, parseClientId, signContent, signPassword } from '../src/sign.js'

// Test vectors from docs/protocol.md §1.2 (fake credentials).
const pk = 'a1B2c3D4e5F'
const dn = 'device001'
const ds = '0123456789abcdef0123456789abcdef'
const clientId = 'a1B2c3D4e5F.device001'

describe('password signing', () => {
  it('orders the sign content alphabetically by parameter name', () => {
    expect(signContent({ productKey: pk, deviceName: dn, clientId, timestamp: '1700000000000' })).toBe(
      'clientIda1B2c3D4e5F.device001deviceNamedevice001productKeya1B2c3D4e5Ftimestamp1700000000000',
    )
  })

  it.each([
    ['hmacmd5', '2eaaea19f3b2e8048fc6a2fc91192377'],
    ['hmacsha1', '86e3c0ec4492519ea08cb35967535d1e52f02828'],
    ['hmacsha256', 'b7cccab498067bd13f5226e47e1b25fe2ceaac40dfdebb04ddd087a52a17edc1'],
  ] as const)('matches the %s test vector', (method, expected) => {
    expect(
      signPassword(method, ds, { productKey: pk, deviceName: dn, clientId, timestamp: '1700000000000' }),
    ).toBe(expected)
  })

  it('matches the C SDK fixed-timestamp vector, in upper case as 3.x sends it', () => {
    const sig = signPassword('hmacsha256', ds, {
      productKey: pk,
      deviceName: dn,
      clientId,
      timestamp: '2524608000000',
    })
    expect(sig.toUpperCase()).toBe('BDB70E33C15D0B3E023E82AB6DD5DE625AD959B167044448A661E2A140C0DFA0')
    expect(hexEquals(sig.toUpperCase(), sig)).toBe(true)
  })

  it('signs without a timestamp', () => {
    expect(signPassword('hmacsha1', ds, { productKey: pk, deviceName: dn, clientId })).toBe(
      '2210aa570dbe16bcf711b12373cfbec8cc5f225c',
    )
  })
})

describe('clientId', () => {
  it('round-trips the extension part', () => {
    const id = formatClientId(clientId, { securemode: '3', signmethod: 'hmacsha256', _ss: '1' })
    expect(id).toBe('a1B2c3D4e5F.device001|securemode=3,signmethod=hmacsha256,_ss=1|')
    expect(parseClientId(id)).toEqual({
      base: clientId,
      params: { securemode: '3', signmethod: 'hmacsha256', _ss: '1' },
    })
  })

  it('parses a bare clientId and the C SDK form with unknown keys', () => {
    expect(parseClientId('abc')).toEqual({ base: 'abc', params: {} })
    const c = parseClientId(
      `${clientId}|timestamp=2524608000000,_v=sdk-c-3.2.0,securemode=2,lan=C,gw=0,ext=0|`,
    )
    expect(c.params.gw).toBe('0')
    expect(c.params.timestamp).toBe('2524608000000')
  })

  it('refuses extension values that would break the format', () => {
    expect(() => formatClientId('x', { a: 'b,c' })).toThrow(/clientId/)
  })
})
