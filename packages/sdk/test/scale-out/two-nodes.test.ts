import { Emulator, type EmulatorOptions } from '@linkkit/emulator'
import { RedisProcess, redisMissing } from '@linkkit/testing/redis'
import { describe, expect, it } from 'vitest'
import { type FirmwareOffer, linkkit, MemoryPersistence } from '../../src/index.js'

const device = {
  productKey: 'a1B2c3D4e5F',
  deviceName: 'device001',
  deviceSecret: '0123456789abcdef0123456789abcdef',
}
const other = { ...device, deviceName: 'device002', deviceSecret: 'fedcba9876543210fedcba9876543210' }
const tsl = new URL('../../../../examples/lamp.tsl.json', import.meta.url).pathname
const products = [{ productKey: device.productKey, thingModel: tsl }]

/** Two emulator nodes of one platform on a private Redis. */
async function platform(options: EmulatorOptions = {}) {
  const redis = await RedisProcess.start()
  const shared = { redisUrl: redis.url, redisPrefix: 'two-nodes', products, noDelay: true, ...options }
  const a = await Emulator.start({ ...shared, devices: [device, other] })
  const b = await Emulator.start(shared)
  return {
    a,
    b,
    async [Symbol.asyncDispose]() {
      await a.close()
      await b.close()
      await redis.close()
    },
  }
}

function lamp(emu: Emulator, triple = device, version = '1.0.0') {
  const persistence = new MemoryPersistence()
  const d = linkkit.open({
    ...triple,
    brokerUrl: emu.mqttUrl,
    thingModel: tsl,
    requestTimeoutMs: 3000,
    firmware: { version, persistence, allowHttp: true },
  })
  return { d, persistence }
}

describe.skipIf(redisMissing !== undefined)(
  `two emulator nodes on Redis${redisMissing === undefined ? '' : ` (skipped: ${redisMissing})`}`,
  () => {
    it('a device on node A answers a service call and a property set made on node B', async () => {
      await using p = await platform()
      const { d } = lamp(p.a)
      const calls: unknown[] = []
      d.onService('wakeup', async (params) => {
        calls.push(params)
        return { out: 1 }
      })
      const sets: unknown[] = []
      d.onPropertySet(async (props) => {
        sets.push(props)
      })
      await using _d = await d.connect()
      await expect.poll(() => p.b.device(device.productKey, device.deviceName)?.online).toBe(true)

      const reply = await p.b.setProperties(device.productKey, device.deviceName, { LightSwitch: 1 })
      expect(reply.code).toBe(200)
      expect(sets).toEqual([{ LightSwitch: 1 }])

      const answer = await p.b.invokeService(device.productKey, device.deviceName, 'wakeup', {
        delaySeconds: 3,
      })
      expect(answer).toMatchObject({ code: 200 })
      expect(calls).toEqual([{ delaySeconds: 3 }])

      // What the device reports on A shows on B.
      await d.postProperties({ LightSwitch: 0 })
      await expect
        .poll(() => p.b.device(device.productKey, device.deviceName)?.properties?.LightSwitch?.value)
        .toBe(0)
    })

    it('an OTA push made on node B reaches the device on node A, whose node serves the image B added; the job ends succeeded on both', async () => {
      await using p = await platform()
      const { d, persistence } = lamp(p.a)
      const data = new Uint8Array(64 * 1024).map((_, i) => (i * 31) & 0xff)
      const offers: FirmwareOffer[] = []
      d.on('fota', (offer) => {
        offers.push(offer)
        void d.fota.download(offer).then(() => d.fota.reportVersion('1.1.0'))
      })
      await using _d = await d.connect()
      await expect.poll(() => p.b.device(device.productKey, device.deviceName)?.online).toBe(true)
      const firmware = await p.b.ota.addFirmware({ productKey: device.productKey, version: '1.1.0', data })
      const job = await p.b.ota.push({
        productKey: device.productKey,
        deviceName: device.deviceName,
        firmware,
      })
      await p.b.ota.waitForJob(job.id, 'succeeded', 10_000)
      expect(offers).toHaveLength(1)
      // The device's own node offered it, with its own origin: it serves bytes B stored in Redis.
      expect(new URL(offers[0]?.url ?? '').origin).toBe(new URL(p.a.httpUrl).origin)
      expect(persistence.bytes()).toEqual(data)
      await expect.poll(() => p.a.ota.job(job.id)?.status).toBe('succeeded')
    })

    it('the control API of either node lists every device, online on whichever node', async () => {
      await using p = await platform()
      const first = lamp(p.a)
      const second = lamp(p.b, other)
      await using _1 = await first.d.connect()
      await using _2 = await second.d.connect()
      for (const node of [p.a, p.b]) {
        await expect
          .poll(async () => {
            const res = await fetch(`${node.httpUrl}/control/devices`, {
              headers: { authorization: `Bearer ${node.controlToken}` },
            })
            const body = (await res.json()) as { devices: Array<{ deviceName: string; online: boolean }> }
            return body.devices.map((x) => `${x.deviceName}:${x.online}`).sort()
          })
          .toEqual(['device001:true', 'device002:true'])
      }
    })
  },
)
