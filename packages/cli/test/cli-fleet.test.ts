import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Emulator } from '@linkkit/emulator'
import type { FleetMetrics } from '@linkkit/fleet'
import { describe, expect, it } from 'vitest'
import { runCli } from '../src/cli.js'
import { cli, LAMP_TSL, memoryIo } from './cli-helpers.js'

const PK = 'a1CliFleet01'

function devices(count: number) {
  return Array.from({ length: count }, (_, i) => ({
    productKey: PK,
    deviceName: `cli-${i}`,
    deviceSecret: `cli-fleet-secret-${i}`.padEnd(32, 'x'),
  }))
}

function jsonLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

describe('linkkit fleet', () => {
  it('--json prints parseable metrics lines while the fleet posts, then a closed line', async () => {
    const list = devices(20)
    await using emu = await Emulator.start({
      devices: list,
      products: [{ productKey: PK, thingModel: LAMP_TSL }],
    })
    const dir = await mkdtemp(join(tmpdir(), 'cli-fleet-'))
    const file = join(dir, 'devices.json')
    await writeFile(file, JSON.stringify(list))
    const run = await cli([
      'fleet',
      '--broker',
      emu.mqttUrl,
      '--triples',
      file,
      '--tsl',
      LAMP_TSL,
      '--interval-ms',
      '200',
      '--every-ms',
      '250',
      '--duration-ms',
      '3000',
      '--json',
      '--seed',
      '5',
    ])
    await rm(dir, { recursive: true, force: true })
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const lines = jsonLines(run.stdout)
    expect(lines[0]).toEqual({ event: 'started', total: 20, broker: emu.mqttUrl })
    expect(lines.at(-1)).toEqual({ event: 'closed', total: 20 })
    const metrics = lines.filter((l) => l.event === 'metrics') as unknown as Array<
      FleetMetrics & { event: string }
    >
    expect(metrics.length).toBeGreaterThanOrEqual(5)
    const last = metrics.at(-1)!
    expect(last.total).toBe(20)
    expect(last.connected).toBe(20)
    expect(last.posts.answered).toBeGreaterThan(100)
    expect(last.posts.failed).toBe(0)
    expect(last.posts.perSecond).toBeGreaterThan(0)
    expect(last.roundTripMs.p99).toBeGreaterThanOrEqual(last.roundTripMs.p50)
    // Each line is a fresh snapshot: time and posts only grow.
    for (let i = 1; i < metrics.length; i++) {
      expect(metrics[i]!.elapsedMs).toBeGreaterThanOrEqual(metrics[i - 1]!.elapsedMs)
      expect(metrics[i]!.posts.answered).toBeGreaterThanOrEqual(metrics[i - 1]!.posts.answered)
    }
    expect(run.stdout).not.toContain('cli-fleet-secret')
    expect(list.every((d) => emu.device(PK, d.deviceName)?.online === false)).toBe(true)
  }, 30_000)

  it('--register creates devices on the emulator by dynamic registration; a terminal gets a summary redrawn in place', async () => {
    const productSecret = 'cli-product-secret-0123456789ab'
    await using emu = await Emulator.start({
      products: [{ productKey: PK, productSecret, dynamicRegistration: true, thingModel: LAMP_TSL }],
    })
    const stop = new AbortController()
    const io = memoryIo({ signal: stop.signal, env: { LINKKIT_PRODUCT_SECRET: productSecret } })
    io.stdout.isTTY = true
    const running = runCli(
      [
        'fleet',
        '--broker',
        emu.mqttUrl,
        '--emulator',
        emu.httpUrl,
        '--register',
        '8',
        '--product',
        PK,
        '--tsl',
        LAMP_TSL,
        '--interval-ms',
        '500',
        '--every-ms',
        '100',
        '--faults',
        'refuse:0.25',
      ],
      io,
    )
    const deadline = Date.now() + 20_000
    // The summary is redrawn every 100 ms: wait for the drawing that shows the whole fleet online.
    while (!io.out.join('').includes('8/8 connected')) {
      if (Date.now() > deadline) throw new Error('the summary never showed 8/8 connected')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    stop.abort()
    expect(await running).toBe(0)
    const out = io.out.join('')
    expect(out).toContain('registered 8 devices of a1CliFleet01')
    expect(out).toMatch(new RegExp(`${String.fromCharCode(27)}\\[\\d+F`))
    expect([0, 1, 2, 3, 4, 5, 6, 7].every((i) => emu.device(PK, `fleet-${i}`)?.activated)).toBe(true)
    expect(out).not.toContain(productSecret)
    expect(io.err.join('')).toBe('')
  }, 30_000)

  it('refuses bad arguments with exit code 2', async () => {
    const cases = [
      [['fleet', '--broker', 'mqtt://127.0.0.1:1'], /either --triples or --register/],
      [['fleet', '--broker', 'mqtt://127.0.0.1:1', '--register', '5'], /--register needs --product/],
      [['fleet', '--broker', 'http://x', '--triples', 'x.json'], /--broker must be/],
      [
        ['fleet', '--broker', 'mqtt://127.0.0.1:1', '--triples', 'x.json', '--faults', 'boom:0.1'],
        /--faults takes/,
      ],
      [
        ['fleet', '--broker', 'mqtt://127.0.0.1:1', '--triples', 'x.json', '--faults', 'stall:1.5'],
        /share is from 0 to 1/,
      ],
      [
        ['fleet', '--broker', 'mqtt://127.0.0.1:1', '--triples', 'x.json', '--store', 'disk'],
        /--store takes/,
      ],
    ] as const
    for (const [argv, message] of cases) {
      const run = await cli([...argv])
      expect(run.stderr).toMatch(message)
      expect(run.code).toBe(2)
    }
  })
})
