import { execFile } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const here = fileURLToPath(new URL('.', import.meta.url))
const root = fileURLToPath(new URL('..', import.meta.url))

/** What each runnable example must print on success (it must also exit 0). */
const expected: Record<string, RegExp> = {
  'demo.ts': /job job-\d+ succeeded; device reports 1\.1\.0/,
  'ota-basic.ts': /The firmware is valid/,
  'linkkit-solo.ts': /upgrade job job-\d+: succeeded/,
  'persistence-swap.ts': /flash boots slot B with 1\.3\.0/,
}
/** Modules that examples import, not examples themselves. */
const helpers = new Set<string>()

const examples = readdirSync(here).filter(
  (f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !helpers.has(f),
)

describe('examples run to completion', () => {
  it('every example has an expectation here', () => {
    for (const name of examples) expect(Object.keys(expected).concat(['gateway.ts'])).toContain(name)
  })

  it.each(Object.keys(expected).filter((name) => examples.includes(name)))(
    '%s',
    async (name) => {
      const { stdout } = await run(
        process.execPath,
        ['--import', 'tsx', '--conditions=development', `examples/${name}`],
        {
          cwd: root,
          timeout: 90_000,
          env: { ...process.env, FORCE_COLOR: '0' },
        },
      )
      expect(stdout).toMatch(expected[name]!)
    },
    120_000,
  )
})
