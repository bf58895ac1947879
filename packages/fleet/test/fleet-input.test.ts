import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConnectQueue } from '../src/connect-queue.js'
import { assignFaults } from '../src/faults.js'
import { readTriples, simulateFleet } from '../src/index.js'
import { seededRandom } from '../src/random.js'
import { triples } from './helpers.js'

let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleet-input-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name)
  await writeFile(path, text)
  return path
}

describe('triples files', () => {
  it('reads a JSON array, an emulator config (skipping devices without a secret) and CSV lines', async () => {
    const one = { productKey: 'a1P', deviceName: 'd1', deviceSecret: 's1' }
    expect(await readTriples(await file('a.json', JSON.stringify([one])))).toEqual([one])
    const config = { products: [], devices: [one, { productKey: 'a1P', deviceName: 'dyn' }] }
    expect(await readTriples(await file('c.json', JSON.stringify(config)))).toEqual([one])
    expect(await readTriples(await file('t.csv', '# pk,dn,ds\n\na1P, d1 ,s1\n'))).toEqual([one])
  })

  it('refuses bad files with ERR_INVALID_OPTIONS naming the place, never the secret', async () => {
    const cases = [
      ['missing.json', undefined, /cannot read/],
      ['bad.json', '[{"productKey":"a1P"', /not valid JSON/],
      ['short.csv', 'a1P,d1,TOPSECRET\na1P,d2\n', /line 2/],
      [
        'field.json',
        '[{"productKey":"a1P","deviceName":"d","deviceSecret":""}]',
        /entry 0 needs .* deviceSecret/,
      ],
      ['twice.csv', 'a1P,d1,TOPSECRET\na1P,d1,TOPSECRET\n', /a1P\/d1 appears twice/],
      ['empty.csv', '# nothing\n', /no device triple/],
    ] as const
    for (const [name, text, message] of cases) {
      const path = text === undefined ? join(dir, name) : await file(name, text)
      const error = await readTriples(path).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'ERR_INVALID_OPTIONS', message: expect.stringMatching(message) })
      expect(String((error as Error).message)).not.toContain('TOPSECRET')
    }
  })
})

describe('options', () => {
  it('refuses invalid options before connecting anything', async () => {
    const devices = triples(2)
    const bad = [
      { url: 'http://127.0.0.1:1', devices },
      { url: 'mqtt://127.0.0.1:1' },
      {
        url: 'mqtt://127.0.0.1:1',
        devices,
        faults: [
          { share: 0.7, kind: 'stall' as const },
          { share: 0.4, kind: 'refuse' as const },
        ],
      },
      { url: 'mqtt://127.0.0.1:1', devices, faults: [{ share: 0.1, kind: 'explode' as 'stall' }] },
      { url: 'mqtt://127.0.0.1:1', devices, connectConcurrency: 0 },
      { url: 'mqtt://127.0.0.1:1', devices, churn: { meanUptimeMs: 0 } },
      { url: 'mqtt://127.0.0.1:1', devices: [{ productKey: 'a1P', deviceName: 'a/b', deviceSecret: 's' }] },
      { url: 'mqtt://127.0.0.1:1', devices: [{ productKey: 'a1P', deviceName: 'd', deviceSecret: '' }] },
    ]
    for (const options of bad) {
      await expect(simulateFleet(options)).rejects.toMatchObject({
        code: expect.stringMatching(/^ERR_INVALID_/),
      })
    }
  })
  it('names the refused option in the message and in details.name, as every package does', async () => {
    const devices = triples(1)
    const url = 'mqtt://127.0.0.1:1'
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ url: 'http://127.0.0.1:1' }, 'url', /^url must be an mqtt:\/\//],
      [{ url: 'mqtt://' }, 'url', /^url must be/],
      [{ url, postIntervalMs: 1.5 }, 'postIntervalMs', /must be an integer from 0 to 86400000/],
      [{ url, ota: { version: '' } }, 'ota.version', /must be a non-empty string/],
      [{ url, ota: { allowHttp: 'yes' } }, 'ota.allowHttp', /must be true or false/],
      [{ url, ota: { store: 'disk' } }, 'ota.store', /must be 'memory' or a FlashSimPool/],
      [
        { url, faults: [{ share: Number.NaN, kind: 'fail' }] },
        'faults[0].share',
        /must be a number from 0 to 1/,
      ],
      [{ url, backoff: { jitter: 2 } }, 'backoff.jitter', /must be a number from 0 to 1/],
      [{ url, connectsPerSecond: 0 }, 'connectsPerSecond', /must be a number ≥ 1/],
    ]
    for (const [options, name, message] of cases) {
      await expect(simulateFleet({ devices, ...options } as never)).rejects.toMatchObject({
        code: 'ERR_INVALID_OPTIONS',
        message: expect.stringMatching(message),
        details: { name },
      })
    }
  })
})

describe('fault shares', () => {
  it('gives each rule its share of whole devices, the same ones for the same seed', () => {
    const rules = [
      { share: 0.05, kind: 'stall' as const },
      { share: 0.1, kind: 'refuse' as const },
    ]
    const a = assignFaults(1000, rules, seededRandom(3))
    expect(a.filter((f) => f?.kind === 'stall')).toHaveLength(50)
    expect(a.filter((f) => f?.kind === 'refuse')).toHaveLength(100)
    expect(assignFaults(1000, rules, seededRandom(3))).toEqual(a)
    expect(assignFaults(1000, rules, seededRandom(4))).not.toEqual(a)
  })
})

describe('the connect queue', () => {
  it('starts at most `concurrency` at once and at most `perSecond` within any 1000 ms', () => {
    const started: Array<[number, number]> = []
    let now = 0
    const queue = new ConnectQueue<number>(5, 8, (item) => started.push([now, item]))
    for (let i = 0; i < 30; i++) queue.push(i)
    queue.pump(now)
    expect(started).toHaveLength(5)
    for (let k = 0; k < 5; k++) queue.done()
    for (now = 0; now <= 4000; now += 20) {
      queue.pump(now)
      while (queue.inFlight > 0) queue.done()
    }
    expect(started.map(([, item]) => item)).toEqual(Array.from({ length: 30 }, (_, i) => i))
    for (const [at] of started) {
      expect(started.filter(([t]) => t >= at && t < at + 1000).length).toBeLessThanOrEqual(8)
    }
    expect(started.at(-1)?.[0]).toBeLessThan(4000)
  })
})
