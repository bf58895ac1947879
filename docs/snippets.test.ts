import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  expectedOutput,
  markdownPages,
  type Snippet,
  snippetFileName,
  snippetsOf,
  unmetOutput,
} from './snippet-blocks.js'

/**
 * Every ```ts block in docs/ is type-checked (one tsc run over all of them, with the root
 * tsconfig) and, unless marked `<!-- not-run -->`, run as its own process with
 * `node --import tsx --conditions=development`, expecting exit code 0 and, in order, a line of
 * output for every `// → text` comment of the block (`…` matching anything). Blocks marked
 * `<!-- same-as: path -->` must equal that file, which the test suite runs itself.
 */
const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
const work = join(root, '.tmp', 'docs-snippets')
/** `DOCS_PAGE=ota npx vitest run docs` tests the blocks of matching pages only (while writing one). */
const only = process.env.DOCS_PAGE
const snippets = markdownPages(join(root, 'docs'))
  .filter((page) => only === undefined || page.includes(only))
  .flatMap((page) => snippetsOf(root, page))
const compiled = snippets.filter((s) => s.mode !== 'same-as')
const runnable = snippets.filter((s) => s.mode === 'run')
const sameAs = snippets.filter((s) => s.mode === 'same-as')
const RUN_TIMEOUT_MS = 45_000
const PARALLEL_RUNS = 3

const name = (s: Snippet) => `${s.page}:${s.line}`

/** Runs at most `n` of the given tasks at once. */
function limiter(n: number) {
  let active = 0
  const waiting: Array<() => void> = []
  return async <T>(task: () => Promise<T>): Promise<T> => {
    while (active >= n) await new Promise<void>((resolve) => waiting.push(resolve))
    active += 1
    try {
      return await task()
    } finally {
      active -= 1
      waiting.shift()?.()
    }
  }
}
const limit = limiter(PARALLEL_RUNS)

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n')
}

beforeAll(() => {
  rmSync(work, { recursive: true, force: true })
  mkdirSync(work, { recursive: true })
  // `export {}` makes every snippet a module, so top-level names do not clash across files.
  for (const s of compiled) writeFileSync(join(work, snippetFileName(s)), `${s.code}export {}\n`)
  const tsconfig = {
    extends: '../../tsconfig.json',
    compilerOptions: { noEmit: true },
    include: ['*.ts', '../../docs/*.ts'],
  }
  writeFileSync(join(work, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2))
})

describe('docs code blocks', () => {
  it('there are runnable blocks, and every block has a page and a line', () => {
    if (only === undefined) expect(runnable.length).toBeGreaterThan(10)
    for (const s of snippets) expect(s.code.trim().length, name(s)).toBeGreaterThan(0)
  })

  it('type-check (tsc over every ts block but same-as ones)', async () => {
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
    const result = await run(process.execPath, [tsc, '-p', join(work, 'tsconfig.json')], {
      cwd: root,
      timeout: 120_000,
    }).then(
      () => '',
      (error: { stdout?: string; message: string }) => error.stdout || error.message,
    )
    expect(pointAtPages(result)).toBe('')
  }, 150_000)

  it.each(sameAs.map((s) => [name(s), s] as const))('%s equals its file', (_, s) => {
    const file = readFileSync(join(root, s.file ?? ''), 'utf8')
    expect(s.code, `the block differs from ${s.file}`).toBe(file)
  })

  it.concurrent.each(runnable.map((s) => [name(s), s] as const))(
    '%s runs and exits 0',
    async (_, s) => {
      const file = join(work, snippetFileName(s))
      const outcome = await limit(() =>
        run(process.execPath, ['--import', 'tsx', '--conditions=development', file], {
          cwd: root,
          timeout: RUN_TIMEOUT_MS,
          env: { ...process.env, FORCE_COLOR: '0', NODE_NO_WARNINGS: '1' },
        }).then(
          ({ stdout }) => {
            const unmet = unmetOutput(expectedOutput(s.code), stdout)
            return unmet.length === 0
              ? 'exit 0'
              : `exit 0, but these "// →" lines were not printed (in order):\n${unmet.join('\n')}\n--- stdout:\n${tail(stdout)}`
          },
          (error: { code?: unknown; signal?: unknown; stdout?: string; stderr?: string }) =>
            `exit ${String(error.code ?? error.signal)}\n${tail(`${error.stdout ?? ''}\n${error.stderr ?? ''}`)}`,
        ),
      )
      expect(outcome, `${name(s)} (${file})`).toBe('exit 0')
    },
    4 * RUN_TIMEOUT_MS,
  )
})

/** Rewrites tsc's `file.ts(line,col)` positions into `docs/page.md:line` of the block's source. */
function pointAtPages(output: string): string {
  const byFile = new Map(compiled.map((s) => [snippetFileName(s), s]))
  return output
    .trim()
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const m = /([A-Za-z0-9_]+\.ts)\((\d+),(\d+)\): (.*)$/.exec(line)
      const s = m ? byFile.get(m[1] ?? '') : undefined
      if (!m || !s) return line
      return `${s.page}:${s.line + Number(m[2])}:${m[3]} ${m[4]}`
    })
    .join('\n')
}
