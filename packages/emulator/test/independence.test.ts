import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/**
 * The emulator checks devices with its own code (issue 12, "the emulator grades its own
 * homework"): it must not reach for the SDK's signing, credential or thing-model code, and its
 * tests use only what its package.json declares.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
}

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(ROOT, dir, file))
}

/** Every `import … from '<specifier>'` (and `export … from`) of a file, with the names it takes. */
function imports(file: string): Array<{ specifier: string; names: string[] }> {
  const text = readFileSync(file, 'utf8')
  const found: Array<{ specifier: string; names: string[] }> = []
  for (const m of text.matchAll(/^(?:import|export)\s+(?:type\s+)?([\s\S]*?)\s+from\s+'([^']+)'/gm)) {
    const names = [...(m[1] ?? '').matchAll(/(?:type\s+)?(\w+)(?:\s+as\s+\w+)?/g)].map((n) => n[1] ?? '')
    found.push({ specifier: m[2] ?? '', names })
  }
  return found
}

/** What the emulator may take from core: errors, topic builders and matchers, safe emits, wire codes. */
const FROM_CORE = new Set([
  'LinkkitError',
  'LinkkitErrorCode',
  'isLinkkitError',
  'Topics',
  'topicMatches',
  'topicIdentity',
  'sameIdentity',
  'assertTopicSegment',
  'safeEmit',
  // The one table of wire reply codes (issue 12: "wire codes live in one table") and the identity type.
  'WireCodes',
  'DeviceIdentity',
  // The vocabulary of the TSL errors' details.rule (types: no checking code comes with them).
  'TslDocumentRule',
  'TslRule',
  // The one option checker of the repo (issue 12, "options: one small validation helper").
  'OptionRule',
  'booleanRule',
  'checkOption',
  'integerRule',
  'invalidOption',
  'objectRule',
  'refusedOption',
  'requireOption',
  'urlRule',
])

describe('an emulator independent of the SDK', () => {
  it('imports from @linkkit/core only errors, topics and safeEmit, and nothing of the other packages', () => {
    const taken = new Set<string>()
    for (const file of sources('src')) {
      for (const { specifier, names } of imports(file)) {
        expect([relative(ROOT, file), specifier]).not.toEqual([
          relative(ROOT, file),
          expect.stringMatching(/^@linkkit\/(?!core$)|^linkkit$/),
        ])
        if (specifier === '@linkkit/core') for (const name of names) taken.add(name)
      }
    }
    expect([...taken].filter((name) => !FROM_CORE.has(name))).toEqual([])
    expect(taken.size).toBeGreaterThan(0)
  })

  it('does not depend on @linkkit/thing-model at run time', () => {
    expect(Object.keys(PACKAGE.dependencies)).not.toContain('@linkkit/thing-model')
  })

  it('has tests that import only their own package and what its package.json declares', () => {
    const declared = new Set([...Object.keys(PACKAGE.dependencies), ...Object.keys(PACKAGE.devDependencies)])
    for (const file of sources('test')) {
      for (const { specifier } of imports(file)) {
        const where = relative(ROOT, file)
        if (specifier.startsWith('.')) {
          const target = relative(ROOT, resolve(dirname(file), specifier))
          expect([where, target]).not.toEqual([where, expect.stringMatching(/^\.\./)])
        } else if (!specifier.startsWith('node:')) {
          const name = specifier.startsWith('@')
            ? specifier.split('/').slice(0, 2).join('/')
            : specifier.split('/')[0]
          expect([where, declared.has(name ?? '')]).toEqual([where, true])
        }
      }
    }
  })
})
