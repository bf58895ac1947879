import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../', import.meta.url))

describe('examples/gateway.ts', () => {
  it('runs a gateway with three sub-devices: posts, a service call, an upgrade; exits 0', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', '--conditions=development', 'examples/gateway.ts'],
      { cwd: root, timeout: 20_000 },
    )
    expect(stdout).toContain('3 sub-devices in the topology and logged in (1 batch login message)')
    for (const [name, value] of [
      ['lamp-01', 30],
      ['lamp-02', 50],
      ['lamp-03', 70],
    ])
      expect(stdout).toContain(`${name}: posted Brightness ${value}; the platform holds ${value}`)
    expect(stdout).toContain('cloud: wakeup on lamp-02 answered 200 {"out":1}')
    expect(stdout).toMatch(/lamp-03: 65536 bytes verified and stored; job succeeded, reports 1\.1\.0/)
    expect(stdout).toContain('sub-devices online: 0')
  }, 30_000)
})
