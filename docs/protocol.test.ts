import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

/**
 * The signing test vectors printed in docs/protocol.md §1.2, recomputed here with node:crypto (not
 * with linkkit's signer), so the page cannot drift from what the platform checks.
 */
const page = readFileSync(new URL('./protocol.md', import.meta.url), 'utf8')

/** The ```text block of §1.2 that holds the vectors: the one whose first line defines `pk=`. */
function vectorBlock(): string[] {
  const blocks = [...page.matchAll(/^```text\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '')
  const found = blocks.filter((b) => b.startsWith('pk='))
  expect(found, 'exactly one vector block in docs/protocol.md').toHaveLength(1)
  return (found[0] ?? '').trimEnd().split('\n')
}

/** `k=v` pairs separated by spaces. */
function pairs(line: string): Record<string, string> {
  return Object.fromEntries(
    line
      .trim()
      .split(/\s+/)
      .map((kv) => kv.split('=') as [string, string]),
  )
}

const ALGORITHM = { hmacmd5: 'md5', hmacsha1: 'sha1', hmacsha256: 'sha256' } as const
type Method = keyof typeof ALGORITHM

const hmac = (method: Method, key: string, content: string) =>
  createHmac(ALGORITHM[method], key).update(content, 'utf8').digest('hex')

/** One printed line `label = value`, found by its label. */
function value(lines: readonly string[], label: string): string {
  const line = lines.find((l) => l.startsWith(`${label} = `))
  expect(line, `line "${label} = …" in the vector block`).toBeDefined()
  return (line ?? '').slice(label.length + 3).trim()
}

describe('docs/protocol.md signing test vectors', () => {
  const lines = vectorBlock()
  const p = pairs(lines[0] ?? '')
  const { pk = '', dn = '', ds = '', cid = '', ts = '' } = p

  it('names the credentials the vectors are computed from', () => {
    expect(Object.keys(p).sort()).toEqual(['cid', 'dn', 'ds', 'pk', 'ts'])
    for (const v of [pk, dn, ds, cid, ts]) expect(v.length).toBeGreaterThan(0)
  })

  it('prints the sign content in alphabetical order of parameter name', () => {
    const content = `clientId${cid}deviceName${dn}productKey${pk}timestamp${ts}`
    expect(value(lines, 'content')).toBe(content)
    expect(value(lines, 'no timestamp: content')).toBe(`clientId${cid}deviceName${dn}productKey${pk}`)
  })

  it.each(Object.keys(ALGORITHM) as Method[])('%s of the content', (method) => {
    const content = `clientId${cid}deviceName${dn}productKey${pk}timestamp${ts}`
    expect(value(lines, method)).toBe(hmac(method, ds, content))
  })

  it('the C SDKs’ fixed timestamp, in their uppercase hex', () => {
    const content = `clientId${cid}deviceName${dn}productKey${pk}timestamp2524608000000`
    const printed = value(lines, 'ts=2524608000000 hmacsha256')
    expect(printed).toBe(printed.toUpperCase())
    expect(printed).toBe(hmac('hmacsha256', ds, content).toUpperCase())
  })

  it('without a timestamp', () => {
    const content = `clientId${cid}deviceName${dn}productKey${pk}`
    expect(value(lines, 'no timestamp: hmacsha1')).toBe(hmac('hmacsha1', ds, content))
  })

  it('dynamic registration, keyed with the product secret', () => {
    const line = lines.find((l) => l.startsWith('dynreg: ps='))
    expect(line).toBeDefined()
    const { ps = '', random = '' } = pairs((line ?? '').slice('dynreg: '.length))
    expect(ps.length).toBeGreaterThan(0)
    expect(random.length).toBeGreaterThan(0)
    const content = `deviceName${dn}productKey${pk}random${random}`
    expect(value(lines, 'dynreg: content')).toBe(content)
    expect(value(lines, 'dynreg: hmacsha256')).toBe(hmac('hmacsha256', ps, content))
  })

  it('every line of the block is checked above', () => {
    const checked = [
      /^pk=/,
      /^content = /,
      /^hmacmd5 = /,
      /^hmacsha1 = /,
      /^hmacsha256 = /,
      /^ts=2524608000000 hmacsha256 = /,
      /^no timestamp: content = /,
      /^no timestamp: hmacsha1 = /,
      /^dynreg: ps=/,
      /^dynreg: content = /,
      /^dynreg: hmacsha256 = /,
    ]
    expect(lines.filter((l) => !checked.some((re) => re.test(l)))).toEqual([])
    expect(lines).toHaveLength(checked.length)
  })
})
