import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { linkkit } from '@linkkit/sdk'
import { RedisProcess, redisMissing } from '@linkkit/testing/redis'
import { beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../src/cli.js'
import { cli, eventually, memoryIo } from './cli-helpers.js'

const PK = 'a1RedisCli01'
const DEVICE = { productKey: PK, deviceName: 'lamp-0001', deviceSecret: 'redis-cli-secret-0123456789' }
const TOKEN = 'cli-redis-test-control-token'

/** `linkkit emulator …` in-process until the returned stop(); its JSON `started` event. */
async function node(args: string[]) {
  const abort = new AbortController()
  const io = memoryIo({ signal: abort.signal, env: { LINKKIT_CONTROL_TOKEN: TOKEN } })
  const exited = runCli(['emulator', '--mqtt-port', '0', '--http-port', '0', '--json', ...args], io)
  await eventually(() => io.out.join('').includes('"started"') || io.err.length > 0, 'the emulator to start')
  const started = JSON.parse(io.out.join('').split('\n')[0] ?? '{}') as Record<string, string>
  return {
    started,
    async [Symbol.asyncDispose]() {
      abort.abort()
      expect(await exited).toBe(0)
    },
  }
}

describe.skipIf(redisMissing !== undefined)(
  `linkkit emulator --redis${redisMissing === undefined ? '' : ` (skipped: ${redisMissing})`}`,
  () => {
    it("two nodes on one Redis are one platform: a device on the second shows online in the first one's control API", async () => {
      await using redis = await RedisProcess.start()
      const dir = await mkdtemp(join(tmpdir(), 'linkkit-cli-redis-'))
      try {
        const config = join(dir, 'devices.json')
        await writeFile(config, JSON.stringify({ products: [{ productKey: PK }], devices: [DEVICE] }))
        await using first = await node([
          '--config',
          config,
          '--redis',
          redis.url,
          '--redis-prefix',
          'cli',
          '--redis-lease-ms',
          '5000',
        ])
        // The second node's file lists no device: it knows them from Redis.
        const empty = join(dir, 'empty.json')
        await writeFile(empty, JSON.stringify({ products: [], devices: [] }))
        await using second = await node(['--config', empty, '--redis', redis.url, '--redis-prefix', 'cli'])
        expect(first.started.redis).toBe(`${redis.url}`)
        expect(second.started.node).toMatch(/^[0-9a-f]+$/)
        expect(second.started.node).not.toBe(first.started.node)
        await using d = await linkkit.open({ ...DEVICE, brokerUrl: second.started.mqttUrl }).connect()
        expect(d.connected).toBe(true)
        await expect
          .poll(async () => {
            const res = await fetch(`${first.started.httpUrl}/control/devices/${PK}/lamp-0001`, {
              headers: { authorization: `Bearer ${TOKEN}` },
            })
            return ((await res.json()) as { online?: boolean }).online
          })
          .toBe(true)
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    })
  },
)

describe('linkkit emulator --redis refusals', () => {
  let config = ''
  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'linkkit-cli-redis-'))
    config = join(dir, 'devices.json')
    await writeFile(config, JSON.stringify({ products: [], devices: [] }))
    return () => rm(dir, { recursive: true, force: true })
  })

  it('an unreachable Redis fails with one line naming the URL without its password (exit 1)', async () => {
    // A port nothing listens on: taken, then freed.
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    await new Promise<void>((resolve) => server.close(() => resolve()))
    const { code, stderr } = await cli([
      'emulator',
      '--config',
      config,
      '--redis',
      `redis://:hunter2-secret@127.0.0.1:${port}`,
      '--mqtt-port',
      '0',
      '--http-port',
      '0',
    ])
    expect(code).toBe(1)
    expect(stderr).toContain('ERR_STATE_STORE')
    expect(stderr).toContain(`127.0.0.1:${port}`)
    expect(stderr).not.toContain('hunter2')
  })

  it('refuses a URL that is not redis:// and a bad prefix (exit 2)', async () => {
    const bad = await cli(['emulator', '--config', config, '--redis', 'http://127.0.0.1:6379'])
    expect([bad.code, bad.stderr]).toEqual([
      2,
      expect.stringContaining('--redis must be a redis:// or rediss:// URL'),
    ])
    const prefix = await cli([
      'emulator',
      '--config',
      config,
      '--redis',
      'redis://127.0.0.1:1',
      '--redis-prefix',
      'a*b',
    ])
    expect([prefix.code, prefix.stderr]).toEqual([2, expect.stringContaining('--redis-prefix must be')])
  })

  it('refuses --redis-lease-ms out of range or without --redis (exit 2)', async () => {
    const short = await cli([
      'emulator',
      '--config',
      config,
      '--redis',
      'redis://127.0.0.1:1',
      '--redis-lease-ms',
      '100',
    ])
    expect([short.code, short.stderr]).toEqual([
      2,
      expect.stringContaining('--redis-lease-ms must be an integer from 300'),
    ])
    const alone = await cli(['emulator', '--config', config, '--redis-lease-ms', '5000'])
    expect([alone.code, alone.stderr]).toEqual([2, expect.stringContaining('--redis-lease-ms needs --redis')])
  })
})
