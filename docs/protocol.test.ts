import { createHmac } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
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

/** Source files and pages of the repository that may cite the protocol page by section. */
const root = fileURLToPath(new URL('..', import.meta.url))

function citingFiles(): string[] {
  const skip = /(^|\/)(node_modules|dist|\.tmp|\.git|api)(\/|$)/
  return ['packages', 'docs', 'examples', 'bench']
    .flatMap((dir) =>
      readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' }).map((file) => join(dir, file)),
    )
    .concat('README.md')
    .filter((file) => !skip.test(file) && /\.(ts|mts|mjs|md)$/.test(file))
    .map((file) => join(root, file))
}

/** The sections of this page: `1`, `1.2`, … and the items of the §6 checklist as `6#15`. */
function sections(): Set<string> {
  const found = new Set<string>()
  for (const m of page.matchAll(/^##+ (\d+(?:\.\d+)?)\.? /gm)) found.add(m[1] ?? '')
  const checklist = /^## 6\. [\s\S]*?(?=^## 7\. )/m.exec(page)?.[0] ?? ''
  for (const m of checklist.matchAll(/^(\d+)\. /gm)) found.add(`6#${m[1]}`)
  return found
}

describe('docs/protocol.md section numbers', () => {
  it('has every section and §6 item that the sources cite', () => {
    const known = sections()
    expect(known.has('6#18')).toBe(true)
    const missing: string[] = []
    let citations = 0
    for (const file of citingFiles()) {
      const text = readFileSync(file, 'utf8')
      // `docs/protocol.md §2.3` in code, `[protocol.md](protocol.md) §2.3` in pages, and any `, §x.y` after it.
      for (const m of text.matchAll(
        /protocol\.md(?:\]\([^)]*\))?((?:[ ,;–-]*§ ?\d+(?:\.\d+)?(?: (?:item|quirk) \d+)?)+)/gi,
      )) {
        for (const ref of (m[1] ?? '').matchAll(/§ ?(\d+(?:\.\d+)?)(?: (?:item|quirk) (\d+))?/g)) {
          citations += 1
          const id = ref[2] === undefined ? (ref[1] ?? '') : `${ref[1]}#${ref[2]}`
          if (!known.has(id)) missing.push(`${relative(root, file)}: §${id}`)
        }
      }
    }
    expect(missing).toEqual([])
    expect(citations).toBeGreaterThan(100)
  })
})
