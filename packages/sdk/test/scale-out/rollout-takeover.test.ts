import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { Emulator, type OtaRollout } from '@linkkit/emulator'
import { rolloutWhere } from '@linkkit/testing/emulator'
import { RedisProcess, redisMissing } from '@linkkit/testing/redis'
import { describe, expect, it } from 'vitest'
import { type Device, linkkit, MemoryPersistence } from '../../src/index.js'

const PK = 'a1Takeover01'
const COUNT = 24
/** Devices whose store cannot hold the image: their downloads fail. */
const BAD = new Set([5, 17])
const LEASE_MS = 600
const devices = Array.from({ length: COUNT }, (_, i) => ({
  productKey: PK,
  deviceName: `lamp-${String(i).padStart(3, '0')}`,
  deviceSecret: `takeover-secret-${i}`.padEnd(32, 'x'),
}))
const IMAGE_BYTES = 64 * 1024
const child = fileURLToPath(new URL('./helpers/emulator-node.ts', import.meta.url))

/** Connects every device to `node`; each takes every offer at once and counts it. */
async function fleet(node: Emulator, offers: Map<string, number>): Promise<Device[]> {
  return Promise.all(
    devices.map(async (triple, i) => {
      const persistence = new MemoryPersistence(BAD.has(i) ? { maxSizeBytes: 1024 } : {})
      const d = linkkit.open({
        ...triple,
        brokerUrl: node.mqttUrl,
        requestTimeoutMs: 5000,
        firmware: { version: '1.0.0', persistence, allowHttp: true },
      })
      d.on('error', () => {})
      d.on('fota', (offer) => {
        offers.set(triple.deviceName, (offers.get(triple.deviceName) ?? 0) + 1)
        d.fota.download(offer).then(
          () => d.fota.reportVersion(offer.version),
          () => {},
        )
      })
      return d.connect()
    }),
  )
}

/** Every device got one job, and one offer: nothing was pushed twice. */
function expectPushedOnce(emu: Emulator, done: OtaRollout, offers: Map<string, number>): void {
  expect(done.counts).toEqual({
    total: COUNT,
    queued: 0,
    active: 0,
    succeeded: COUNT - BAD.size,
    failed: BAD.size,
    canceled: 0,
  })
  const jobs = emu.ota.jobs({ productKey: PK })
  expect(jobs).toHaveLength(COUNT)
  expect(new Set(jobs.map((j) => j.deviceName)).size).toBe(COUNT)
  for (const [i, d] of devices.entries()) {
    const job = emu.ota.job(done.jobs[d.deviceName] ?? '')
    expect([d.deviceName, job?.status]).toEqual([d.deviceName, BAD.has(i) ? 'failed' : 'succeeded'])
    expect([d.deviceName, offers.get(d.deviceName)]).toEqual([d.deviceName, 1])
  }
}

describe.skipIf(redisMissing !== undefined)(
  `a rollout outlives the node that drives it${redisMissing === undefined ? '' : ` (skipped: ${redisMissing})`}`,
  () => {
    it('node A, killed (SIGKILL) mid-rollout, stops renewing its lease: node B takes the rollout over and completes it, pushing no device twice', async () => {
      await using redis = await RedisProcess.start()
      const shared = { redisUrl: redis.url, redisPrefix: 'takeover', noDelay: true, redisLeaseMs: LEASE_MS }
      await using b = await Emulator.start({ ...shared, devices })
      const a: ChildProcess = spawn(
        process.execPath,
        ['--conditions=development', '--import', 'tsx', child],
        {
          stdio: ['pipe', 'pipe', 'inherit'],
          env: { ...process.env, LINKKIT_CHILD: JSON.stringify(shared) },
        },
      )
      const offers = new Map<string, number>()
      const list = await fleet(b, offers)
      try {
        const lines = createInterface({ input: a.stdout! })[Symbol.asyncIterator]()
        const { node: nodeA } = JSON.parse(String((await lines.next()).value)) as { node: string }
        const rollout = { percent: 100, maxConcurrent: 2 }
        a.stdin?.write(
          `${JSON.stringify({ productKey: PK, version: '1.1.0', imageBytes: IMAGE_BYTES, rollout })}\n`,
        )
        const started = JSON.parse(String((await lines.next()).value)) as OtaRollout
        expect(started.node).toBe(nodeA)
        // A drives it; once a few upgrades ended, A dies without a word.
        const midway = await rolloutWhere(b, started.id, (r) => r.counts.succeeded >= 3)
        a.kill('SIGKILL')
        await once(a, 'exit')
        expect(midway.node).toBe(nodeA)
        expect(midway.counts.queued).toBeGreaterThan(0)
        const taken = await rolloutWhere(b, started.id, (r) => r.node === b.node)
        expect(taken.status).toBe('running')
        const done = await b.ota.rollouts.waitFor(started.id, 'completed', 30_000)
        expect(done.node).toBe(b.node)
        expectPushedOnce(b, done, offers)
      } finally {
        a.kill('SIGKILL')
        await Promise.all(list.map((d) => d.close()))
      }
    }, 60_000)

    it('node A closing mid-rollout frees its lease: node B takes the rollout over at once and completes it', async () => {
      await using redis = await RedisProcess.start()
      const shared = { redisUrl: redis.url, redisPrefix: 'handover', noDelay: true, redisLeaseMs: 60_000 }
      await using b = await Emulator.start({ ...shared, devices })
      const a = await Emulator.start(shared)
      const offers = new Map<string, number>()
      const list = await fleet(b, offers)
      try {
        const data = new Uint8Array(IMAGE_BYTES).map((_, i) => (i * 13 + 5) & 0xff)
        const firmware = await a.ota.addFirmware({ productKey: PK, version: '1.1.0', data })
        const started = await a.ota.rollout({ productKey: PK, firmware, percent: 100, maxConcurrent: 2 })
        await rolloutWhere(b, started.id, (r) => r.counts.succeeded >= 3)
        await a.close()
        // The lease lasts a minute and B checks leases every 20 s: A's word that it freed it is what B acts on.
        const done = await b.ota.rollouts.waitFor(started.id, 'completed', 30_000)
        expect(done.node).toBe(b.node)
        expectPushedOnce(b, done, offers)
      } finally {
        await a.close()
        await Promise.all(list.map((d) => d.close()))
      }
    }, 60_000)
  },
)
