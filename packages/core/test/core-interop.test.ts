import { execFileSync } from 'node:child_process'
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Connection, isLinkkitError, registerDevice, SIGN_METHODS, signPassword } from '@linkkit/core'
import { Emulator } from '@linkkit/emulator'
import {
  findMosquitto,
  findMosquittoPasswd,
  MosquittoProcess,
  mosquittoRequired,
} from '@linkkit/testing/mosquitto'
import { describe, expect, it } from 'vitest'
import { restartSoak } from './helpers/soak.js'

const device = {
  productKey: 'a1B2c3D4e5F',
  deviceName: 'device001',
  deviceSecret: '0123456789abcdef0123456789abcdef',
}
const reconnect = { initialDelayMs: 10, maxDelayMs: 100 }

describe('core against the emulator', () => {
  it.each(SIGN_METHODS)('connects with %s', async (signMethod) => {
    await using emu = await Emulator.start({ devices: [device] })
    await using c = new Connection({ ...device, brokerUrl: emu.mqttUrl, signMethod })
    await c.connect()
    expect(emu.device(device.productKey, device.deviceName)?.online).toBe(true)
  })

  it('rejects a wrong secret with ERR_CONNACK_BAD_CREDENTIALS and does not retry', async () => {
    await using emu = await Emulator.start({ devices: [device] })
    let refused = 0
    emu.on('connect:refused', () => refused++)
    await using c = new Connection({ ...device, deviceSecret: 'wrong', brokerUrl: emu.mqttUrl, reconnect })
    const err = await c.connect().catch((e: unknown) => e)
    expect(isLinkkitError(err, 'ERR_CONNACK_BAD_CREDENTIALS')).toBe(true)
    await new Promise((r) => setTimeout(r, 300))
    expect(refused).toBe(1)
    expect(c.state).toBe('failed')
  })

  it('rejects an unknown or disabled device with ERR_CONNACK_NOT_AUTHORIZED', async () => {
    await using emu = await Emulator.start({
      devices: [device, { ...device, deviceName: 'off', disabled: true }],
    })
    for (const deviceName of ['nobody', 'off']) {
      await using c = new Connection({ ...device, deviceName, brokerUrl: emu.mqttUrl })
      const err = await c.connect().catch((e: unknown) => e)
      expect(isLinkkitError(err, 'ERR_CONNACK_NOT_AUTHORIZED')).toBe(true)
    }
  })

  it('stops reconnecting when the device is disabled while online', async () => {
    await using emu = await Emulator.start({ devices: [device] })
    await using c = new Connection({ ...device, brokerUrl: emu.mqttUrl, reconnect })
    await c.connect()
    const gaveUp = new Promise<unknown>((resolve) => c.on('disconnected', (i) => i.error && resolve(i.error)))
    emu.setDisabled(device.productKey, device.deviceName, true)
    expect(isLinkkitError(await gaveUp, 'ERR_CONNACK_NOT_AUTHORIZED')).toBe(true)
    expect(c.state).toBe('failed')
  })

  it('reconnects after a kick and keeps its subscriptions', async () => {
    await using emu = await Emulator.start({ devices: [device] })
    await using c = new Connection({ ...device, brokerUrl: emu.mqttUrl, reconnect })
    const got: string[] = []
    await c.subscribe(`/sys/${device.productKey}/${device.deviceName}/thing/service/+`, (_t, p) => {
      got.push(p.toString())
    })
    await c.connect()
    const back = new Promise<void>((resolve) => c.once('connected', () => resolve()))
    expect(emu.faults.kick(device.productKey, device.deviceName)).toBe(true)
    await back
    await emu.publish(`/sys/${device.productKey}/${device.deviceName}/thing/service/x`, 'hello')
    await expect.poll(() => got).toEqual(['hello'])
  })

  it('delivers 1,000 QoS1 posts across 5 emulator restarts', async () => {
    let emu = await Emulator.start({ devices: [device] })
    const port = Number(new URL(emu.mqttUrl).port)
    const received: number[] = []
    const record = (e: Emulator) =>
      e.onUplink(
        `/sys/${device.productKey}/${device.deviceName}/thing/event/property/post`,
        ({ payload }) => {
          received.push((JSON.parse(payload.toString()) as { params: { i: number } }).params.i)
        },
      )
    record(emu)
    try {
      await using c = new Connection({ ...device, brokerUrl: emu.mqttUrl, reconnect })
      await restartSoak(c, {
        stop: () => emu.close(),
        start: async () => {
          emu = await Emulator.start({ devices: [device], mqttPort: port })
          record(emu)
        },
        downlink: (topic, payload) => emu.publish(topic, payload, { qos: 1 }),
        received: () => received,
      })
    } finally {
      await emu.close()
    }
  }, 60_000)

  it('registers a device over HTTP and over MQTT (one product one secret)', async () => {
    const productSecret = 'ps0123456789abcdef'
    await using emu = await Emulator.start({
      products: [{ productKey: 'a1DynReg0001', productSecret, dynamicRegistration: true }],
    })
    const viaHttp = await registerDevice({
      productKey: 'a1DynReg0001',
      deviceName: 'dyn-http',
      productSecret,
      registerUrl: emu.httpUrl,
      allowHttp: true,
    })
    expect(viaHttp.deviceSecret).toMatch(/^[0-9a-f]{32}$/)
    const viaMqtt = await registerDevice({
      productKey: 'a1DynReg0001',
      deviceName: 'dyn-mqtt',
      productSecret,
      transport: 'mqtt',
      brokerUrl: emu.mqttUrl,
    })
    await using c = new Connection({
      productKey: 'a1DynReg0001',
      deviceName: 'dyn-mqtt',
      deviceSecret: viaMqtt.deviceSecret,
      brokerUrl: emu.mqttUrl,
    })
    await c.connect()
    const bad = await registerDevice({
      productKey: 'a1DynReg0001',
      deviceName: 'x',
      productSecret: 'wrong',
      registerUrl: emu.httpUrl,
      allowHttp: true,
    }).catch((e: unknown) => e)
    expect(isLinkkitError(bad, 'ERR_DYNREG_FAILED')).toBe(true)
    const plain = await registerDevice({
      productKey: 'a1DynReg0001',
      deviceName: 'y',
      productSecret,
      registerUrl: emu.httpUrl,
    }).catch((e: unknown) => e)
    expect(isLinkkitError(plain, 'ERR_HTTP_NOT_ALLOWED')).toBe(true)
    const badMqtt = await registerDevice({
      productKey: 'a1DynReg0001',
      deviceName: 'z',
      productSecret: 'wrong',
      transport: 'mqtt',
      brokerUrl: emu.mqttUrl,
    }).catch((e: unknown) => e)
    expect(isLinkkitError(badMqtt, 'ERR_CONNACK_BAD_CREDENTIALS')).toBe(true)
  })
})

const bin = findMosquitto()
describe.skipIf(!bin && !mosquittoRequired)('core against Mosquitto', () => {
  it.each(SIGN_METHODS)('connects with %s to the CI broker (or a private one)', async (signMethod) => {
    const url = process.env.LINKKIT_MOSQUITTO_URL
    const own = url ? undefined : await MosquittoProcess.start(bin!)
    try {
      await using c = new Connection({ ...device, brokerUrl: url ?? own!.url, signMethod })
      await c.connect()
      expect(c.connected).toBe(true)
    } finally {
      await own?.close()
    }
  })

  it('is refused with a coded error when Mosquitto checks the signed password', async () => {
    const passwdBin = findMosquittoPasswd()
    if (!bin || !passwdBin)
      throw new Error('mosquitto and mosquitto_passwd are required here (CI) but were not found')
    const now = () => 1_700_000_000_000
    const password = signPassword('hmacsha256', device.deviceSecret, {
      productKey: device.productKey,
      deviceName: device.deviceName,
      clientId: `${device.productKey}.${device.deviceName}`,
      timestamp: String(now()),
    })
    const mosq = await MosquittoProcess.start(bin, (dir) => {
      const passwd = join(dir, 'passwd')
      writeFileSync(passwd, '')
      execFileSync(passwdBin, ['-b', passwd, `${device.deviceName}&${device.productKey}`, password])
      chmodSync(passwd, 0o644)
      return [`password_file ${passwd}`, 'allow_anonymous false']
    })
    try {
      await using good = new Connection({ ...device, brokerUrl: mosq.url, now })
      await good.connect()
      await using bad = new Connection({ ...device, deviceSecret: 'wrong', brokerUrl: mosq.url, now })
      const err = await bad.connect().catch((e: unknown) => e)
      // Mosquitto answers a bad password with CONNACK 5 (not authorized), the emulator with 4.
      expect(isLinkkitError(err, 'ERR_CONNACK_NOT_AUTHORIZED')).toBe(true)
    } finally {
      await mosq.close()
    }
  })
})
