import { readdirSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/**
 * Each package's sources and tests import only what its package.json declares, and never reach
 * into another package's files by path (issue 12: "each package's tests depend only on what its
 * package.json declares").
 */

const PACKAGES = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

interface Manifest {
  name: string
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
}

function files(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((file) => /\.(ts|mts|mjs|js)$/.test(file) && !file.includes('node_modules'))
      .map((file) => join(dir, file))
  } catch {
    return []
  }
}

/** The module specifiers a file imports (static, dynamic and re-exports). */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const found: string[] = []
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm)) found.push(m[1] ?? '')
  for (const m of text.matchAll(/^\s*import\s+'([^']+)'/gm)) found.push(m[1] ?? '')
  for (const m of text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) found.push(m[1] ?? '')
  return found
}

function packageName(specifier: string): string {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? '')
}

const BUILTINS = new Set(builtinModules)

describe('package boundaries', () => {
  const packages = readdirSync(PACKAGES).filter((name) => !name.startsWith('.'))

  it.each(packages)('packages/%s imports only what its package.json declares', (pkg) => {
    const root = join(PACKAGES, pkg)
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest
    const declared = new Set([
      manifest.name,
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.devDependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
    ])
    const undeclared: string[] = []
    const outside: string[] = []
    for (const file of [...files(join(root, 'src')), ...files(join(root, 'test'))]) {
      for (const specifier of specifiers(file)) {
        const where = `${relative(PACKAGES, file)}: ${specifier}`
        if (specifier.startsWith('.')) {
          // A relative import stays inside its own package.
          if (relative(root, resolve(dirname(file), specifier)).startsWith('..')) outside.push(where)
          continue
        }
        if (specifier.startsWith('node:') || BUILTINS.has(specifier)) continue
        if (!declared.has(packageName(specifier))) undeclared.push(where)
      }
    }
    expect(outside).toEqual([])
    expect(undeclared).toEqual([])
  })
})
