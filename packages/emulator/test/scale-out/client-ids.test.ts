import { RedisProcess, redisMissing } from '@linkkit/testing/redis'
import type { IClientOptions } from 'mqtt'
import { describe, expect, it } from 'vitest'
import { Emulator } from '../../src/index.js'
import { A, aWithClientIdOf, B, own, SET_B } from '../client-id-theft.js'
import { closed, connect, nextMessage, refusalCode } from '../helpers.js'
import { clientIdOf, hmacHex, passwordContent } from '../signing.js'

/** `device`'s credentials over a clientId whose base names no device (any base is allowed). */
function withBase(device: typeof A, base: string): IClientOptions {
  const timestamp = '2524608000000'
  const content = passwordContent({
    clientId: base,
    deviceName: device.deviceName,
    productKey: device.productKey,
    timestamp,
  })
  return {
    clientId: clientIdOf(base, { securemode: '3', signmethod: 'hmacsha256', timestamp }),
    username: `${device.deviceName}&${device.productKey}`,
    password: hmacHex('hmacsha256', device.deviceSecret, content),
    clean: false,
  }
}

async function twoNodes() {
  const redis = await RedisProcess.start()
  const options = { redisUrl: redis.url, redisPrefix: 'client-ids', noDelay: true }
  const a = await Emulator.start({ ...options, devices: [A, B] })
  const b = await Emulator.start(options)
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

describe.skipIf(redisMissing !== undefined)(
  `clientId ownership across nodes${redisMissing === undefined ? '' : ` (skipped: ${redisMissing})`}`,
  () => {
    it('a clientId held on node A cannot be taken over from node B by another device; B keeps working', async () => {
      await using p = await twoNodes()
      const refusals: number[] = []
      p.b.on('connect:refused', (info) => refusals.push(info.returnCode))
      const b = await connect(p.a.mqttUrl, own(B))
      await b.subscribeAsync(SET_B, { qos: 1 })
      let bClosed = false
      b.on('close', () => {
        bClosed = true
      })
      await expect.poll(() => p.b.device(B.productKey, B.deviceName)?.online).toBe(true)

      expect(await refusalCode(p.b.mqttUrl, aWithClientIdOf(own(B)))).toBe(2)
      expect(await refusalCode(p.b.mqttUrl, { ...aWithClientIdOf(own(B)), clean: true })).toBe(2)
      expect(refusals).toEqual([2, 2])

      // B's connection on node A still works, also for a downlink published on node B.
      const message = nextMessage(b, SET_B)
      await p.b.publish(SET_B, '{"id":"1","params":{}}', { qos: 1 })
      expect((await message).payload.toString()).toBe('{"id":"1","params":{}}')
      expect(bClosed).toBe(false)
      expect(p.a.device(A.productKey, A.deviceName)).toMatchObject({ online: false, connectCount: 0 })
    })

    it("a free-form clientId B took on node A is B's on node B too, online and offline (clean=false)", async () => {
      await using p = await twoNodes()
      const b = await connect(p.a.mqttUrl, withBase(B, 'sensor-hall-7'))
      expect(await refusalCode(p.b.mqttUrl, withBase(A, 'sensor-hall-7'))).toBe(2)
      const gone = closed(b)
      await b.endAsync()
      await gone
      await expect.poll(() => p.b.device(B.productKey, B.deviceName)?.online).toBe(false)
      expect(await refusalCode(p.b.mqttUrl, withBase(A, 'sensor-hall-7'))).toBe(2)
      expect(await refusalCode(p.a.mqttUrl, withBase(A, 'sensor-hall-7'))).toBe(2)
      // A free clientId is anyone's.
      await connect(p.b.mqttUrl, withBase(A, 'sensor-hall-8'))
    })

    it('while B is offline (clean=false) its clientId stays its own on every node; B may come back on node B', async () => {
      await using p = await twoNodes()
      const b = await connect(p.a.mqttUrl, own(B))
      await b.subscribeAsync(SET_B, { qos: 1 })
      const gone = closed(b)
      await b.endAsync()
      await gone
      await expect.poll(() => p.b.device(B.productKey, B.deviceName)?.online).toBe(false)
      await p.a.publish(SET_B, '{"id":"queued","params":{}}', { qos: 1 })

      expect(await refusalCode(p.b.mqttUrl, aWithClientIdOf(own(B)))).toBe(2)
      expect(await refusalCode(p.a.mqttUrl, aWithClientIdOf(own(B)))).toBe(2)

      // B resumes its session on the other node and gets what was queued for it.
      const again = await connect(p.b.mqttUrl, own(B))
      const queued = await nextMessage(again, SET_B)
      expect(queued.payload.toString()).toContain('"queued"')
    })

    it('the same device logging in on node B takes over its connection on node A, as on one node', async () => {
      await using p = await twoNodes()
      const first = await connect(p.a.mqttUrl, own(B))
      const firstClosed = closed(first)
      const second = await connect(p.b.mqttUrl, own(B))
      await firstClosed
      expect(second.connected).toBe(true)
      await expect
        .poll(() => p.a.device(B.productKey, B.deviceName))
        .toMatchObject({ online: true, connectCount: 2 })
    })
  },
)
