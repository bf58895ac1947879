import { generateKeyPairSync } from 'node:crypto'
import { LinkkitError } from '@linkkit/core'
import { describe, expect, it } from 'vitest'
import { offerSignatures } from '../src/trust/offer-signature.js'
import { offerSecurityVersion } from '../src/trust/security-version.js'
import { TrustKeys } from '../src/trust/trust-keys.js'
import type { FirmwareOffer } from '../src/types.js'

const keys = new TrustKeys({ keys: { k1: generateKeyPairSync('ed25519').publicKey } })
const base: FirmwareOffer = {
  version: '2.0.0',
  size: 10,
  url: 'https://x/fw',
  signMethod: 'SHA256',
  digest: 'ab'.repeat(32),
}
const sig = Buffer.alloc(64, 7).toString('base64')

/** Hostile values an offer's extData could hold, as JSON can carry them. */
const hostile: unknown[] = [
  null,
  true,
  0,
  -1,
  1e308,
  Number.NaN,
  '',
  ' ',
  'x'.repeat(100_000),
  '\u0000',
  [],
  [sig],
  {},
  { toString: 'k1' },
  JSON.parse('{"__proto__": {"polluted": true}}'),
]

describe('offer checks hold against hostile extData (no throw other than a coded LinkkitError)', () => {
  it('every field of the signature, every hostile value', () => {
    for (const field of ['signature', 'signatureAlgorithm', 'signatureKeyId', 'fileSignatures']) {
      for (const value of hostile) {
        const extData = {
          signature: sig,
          signatureAlgorithm: 'ed25519',
          signatureKeyId: 'k1',
          [field]: value,
        }
        for (const files of [
          undefined,
          [
            {
              name: 'a',
              size: 10,
              url: 'https://x/a',
              signMethod: 'SHA256' as const,
              digest: 'ab'.repeat(32),
            },
          ],
        ]) {
          const offer: FirmwareOffer = { ...base, extData, ...(files === undefined ? {} : { files }) }
          try {
            offerSignatures(offer, keys)
          } catch (error) {
            expect(error).toBeInstanceOf(LinkkitError)
            expect(['ERR_SIGNATURE_MISSING', 'ERR_SIGNATURE_INVALID']).toContain((error as LinkkitError).code)
            expect((error as LinkkitError).message.length).toBeLessThan(200)
          }
        }
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('the security version: only integers 0..2^32-1 (or their digit strings) pass', () => {
    for (const value of hostile) {
      const offer = { ...base, extData: { securityVersion: value } }
      if (value === 0) expect(offerSecurityVersion(offer)).toBe(0)
      else
        expect(() => offerSecurityVersion(offer)).toThrow(
          expect.objectContaining({ code: 'ERR_OFFER_INVALID' }),
        )
    }
    expect(offerSecurityVersion({ ...base, extData: { securityVersion: 0xffff_ffff } })).toBe(0xffff_ffff)
    expect(offerSecurityVersion({ ...base, extData: { securityVersion: '4294967295' } })).toBe(0xffff_ffff)
    expect(offerSecurityVersion({ ...base })).toBe(0)
  })
})
