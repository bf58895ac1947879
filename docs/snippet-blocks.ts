import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

/** How a ```ts block of the docs is tested. */
export type SnippetMode = 'run' | 'check' | 'same-as'

/** One ```ts block of a docs page. */
export interface Snippet {
  /** Page path relative to the repository root, e.g. `docs/ota.md`. */
  page: string
  /** Line of the opening fence (1-based). */
  line: number
  /** `run`: type-checked and run; `check`: type-checked only (`<!-- not-run -->`); `same-as`: must equal a file. */
  mode: SnippetMode
  /** For `same-as`: the file (relative to the repository root) the block must equal. */
  file?: string
  code: string
}

const NOT_RUN = /^<!--\s*not-run\s*-->$/
const SAME_AS = /^<!--\s*same-as:\s*(\S+)\s*-->$/

/** Markdown pages under `dir`, recursively, leaving out the generated API reference. */
export function markdownPages(dir: string): string[] {
  const pages: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory() && entry.name !== 'api') pages.push(...markdownPages(path))
    else if (entry.isFile() && entry.name.endsWith('.md')) pages.push(path)
  }
  return pages.sort()
}

/**
 * The ```ts blocks of a page. A `<!-- not-run -->` or `<!-- same-as: path -->` comment on the last
 * non-blank line before the fence changes how the block is tested.
 */
export function snippetsOf(root: string, pagePath: string): Snippet[] {
  const page = relative(root, pagePath)
  const lines = readFileSync(pagePath, 'utf8').split('\n')
  const snippets: Snippet[] = []
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== '```ts') continue
    const start = i
    const body: string[] = []
    for (i += 1; i < lines.length && lines[i]?.trim() !== '```'; i++) body.push(lines[i] ?? '')
    if (i >= lines.length) throw new Error(`${page}:${start + 1}: unclosed code block`)
    const marker = previousNonBlank(lines, start)
    const sameAs = SAME_AS.exec(marker)
    const snippet: Snippet = { page, line: start + 1, mode: 'run', code: `${body.join('\n')}\n` }
    if (NOT_RUN.test(marker)) snippet.mode = 'check'
    else if (sameAs) {
      snippet.mode = 'same-as'
      snippet.file = sameAs[1]
    }
    snippets.push(snippet)
  }
  return snippets
}

function previousNonBlank(lines: readonly string[], index: number): string {
  for (let j = index - 1; j >= 0; j--) {
    const text = lines[j]?.trim() ?? ''
    if (text !== '') return text
  }
  return ''
}

/** A file name for the snippet that says where it came from: `ota_md_L42.ts`. */
export function snippetFileName(snippet: Snippet): string {
  const base = snippet.page.replace(/^docs\//, '').replace(/[^A-Za-z0-9]+/g, '_')
  return `${base}_L${snippet.line}.ts`
}

/**
 * What a runnable block says it prints: the text after `// → ` on its lines, in order. `…` stands
 * for any text. Comments without the arrow are prose and are not checked.
 */
export function expectedOutput(code: string): RegExp[] {
  return code
    .split('\n')
    .map((line) => /\/\/ → (.*)$/.exec(line)?.[1]?.trim())
    .filter((text): text is string => text !== undefined && text !== '')
    .map((text) => new RegExp(`^${text.split('…').map(escapeRegExp).join('.*')}$`))
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** The expectations not met by `stdout`, each matched by a later line than the one before. */
export function unmetOutput(expected: readonly RegExp[], stdout: string): string[] {
  const lines = stdout.split('\n').map((line) => line.trimEnd())
  let at = 0
  const unmet: string[] = []
  for (const pattern of expected) {
    const found = lines.findIndex((line, i) => i >= at && pattern.test(line))
    if (found < 0) unmet.push(pattern.source)
    else at = found + 1
  }
  return unmet
}
