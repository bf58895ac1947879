import { LinkkitError } from '@linkkit/core'
import { describe, expect, it } from 'vitest'
import { listenOrigin, publicBaseUrl } from '../src/public-url.js'

describe('publicBaseUrl', () => {
  it.each([
    ['http://127.0.0.1', 'http://127.0.0.1'],
    ['http://127.0.0.1:80', 'http://127.0.0.1'],
    ['http://127.0.0.1:80/', 'http://127.0.0.1'],
    ['https://ota.example.com:443', 'https://ota.example.com'],
    ['HTTP://OTA.Example.COM:80//', 'http://ota.example.com'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['https://ota.example.com:80', 'https://ota.example.com:80'],
    ['http://ota.example.com:443', 'http://ota.example.com:443'],
    ['http://gateway.local/emulator/', 'http://gateway.local/emulator'],
    ['http://gateway.local:80/a/b', 'http://gateway.local/a/b'],
    ['http://[::1]:80', 'http://[::1]'],
    ['  http://10.0.0.5  ', 'http://10.0.0.5'],
  ])('%s → %s', (input, expected) => {
    expect(publicBaseUrl(input, 'firmwareBaseUrl')).toBe(expected)
  })

  it.each([
    ['', 'must be a non-empty URL'],
    ['   ', 'must be a non-empty URL'],
    [42, 'must be a non-empty URL'],
    [undefined, 'must be a non-empty URL'],
    ['127.0.0.1', 'must be an absolute http:// or https:// URL'],
    ['/ota', 'must be an absolute http:// or https:// URL'],
    ['http://', 'must be an absolute http:// or https:// URL'],
    ['ftp://files.example.com', 'must be an http:// or https:// URL'],
    ['mqtt://127.0.0.1:1883', 'must be an http:// or https:// URL'],
    ['http://user:secret@127.0.0.1', 'must not carry credentials'],
    ['http://127.0.0.1/?token=1', 'must not carry a query or fragment'],
    ['http://127.0.0.1/?', 'must not carry a query or fragment'],
    ['http://127.0.0.1/#top', 'must not carry a query or fragment'],
    ['http://127.0.0.1:99999', 'must be an absolute http:// or https:// URL'],
  ])('refuses %j (%s) with ERR_INVALID_OPTIONS naming the option', (input, rule) => {
    let caught: unknown
    try {
      publicBaseUrl(input, 'firmwareBaseUrl')
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(LinkkitError)
    expect(caught).toMatchObject({
      code: 'ERR_INVALID_OPTIONS',
      message: `firmwareBaseUrl ${rule}`,
      details: { name: 'firmwareBaseUrl' },
    })
  })

  it('never echoes a credential it refused', () => {
    expect(() => publicBaseUrl('http://user:hunter2@127.0.0.1', 'baseUrl')).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    )
  })
})

describe('listenOrigin', () => {
  it('leaves out the default port and reaches wildcard binds on loopback', () => {
    expect(listenOrigin('127.0.0.1', 80)).toBe('http://127.0.0.1')
    expect(listenOrigin('127.0.0.1', 8080)).toBe('http://127.0.0.1:8080')
    expect(listenOrigin('0.0.0.0', 80)).toBe('http://127.0.0.1')
    expect(listenOrigin('::', 8080)).toBe('http://127.0.0.1:8080')
    expect(listenOrigin('::1', 80)).toBe('http://[::1]')
    expect(listenOrigin('::1', 8080)).toBe('http://[::1]:8080')
  })
})
