import { Connection, type LinkkitError, Topics } from '@linkkit/core'
import { describe, expect, it } from 'vitest'
import { FotaClient } from '../src/fota-client.js'
import { OtaSession } from '../src/ota-session.js'
import type { ConfigOffer } from '../src/types.js'
import { firmwareBytes, offerData } from './helpers/firmware.js'
import { RawBroker } from './helpers/raw-broker.js'
import { device, type Rig, startRig, waitFor } from './helpers/rig.js'

// Issue 12: OtaSession and FotaClient each subscribed, parsed and answered the OTA topics, so
// `new OtaSession(device.connection)` next to `device.fota` (as docs/ota.md recommends) answered
// one config push twice and reported one bad offer twice. Both now sit on one OTA channel per
// session and identity: each message is read and answered once, then handed to every user.

type User = 'OtaSession' | 'FotaClient'

/** What one user heard: the config offers and the refusals it was told about. */
interface Heard {
  configs: string[]
  errors: LinkkitError[]
}

async function attach(rig: Rig, users: readonly User[]) {
  const heard: Heard[] = []
  const closers: Array<() => Promise<void>> = []
  for (const user of users) {
    const h: Heard = { configs: [], errors: [] }
    heard.push(h)
    if (user === 'OtaSession') {
      const ota = new OtaSession(rig.connection, { allowHttp: true })
      await ota.ready
      ota.on('pushed', () => h.configs.push(ota.config?.configId ?? 'fota'))
      ota.on('error', (error) => h.errors.push(error))
      closers.push(() => ota.close())
    } else {
      const fota = new FotaClient(rig.connection, { version: '1.0.0', allowHttp: true })
      await fota.start()
      fota.on('config', (offer: ConfigOffer) => h.configs.push(offer.configId))
      fota.on('error', (error) => h.errors.push(error))
      closers.push(() => fota.close())
    }
  }
  return {
    heard,
    [Symbol.asyncDispose]: async () => {
      for (const close of closers) await close()
    },
  }
}

/** The device's `config/push_reply` messages, and a push of `thing.config.push`. */
function configWire(rig: Rig) {
  const pushTopic = Topics.configPush(rig.identity)
  const replies: Array<{ id: string; code: number }> = []
  rig.emu.onUplink(Topics.reply(pushTopic), ({ payload }) => {
    replies.push(JSON.parse(payload.toString()) as { id: string; code: number })
  })
  const push = (id: string, params: unknown) =>
    rig.emu.publish(pushTopic, JSON.stringify({ id, version: '1.0', params, method: 'thing.config.push' }), {
      qos: 1,
    })
  return { push, replies }
}

const configParams = (configId: string, url: string) => ({
  configId,
  configSize: 10,
  sign: 'ab'.repeat(32),
  signMethod: 'Sha256',
  url,
  getType: 'file',
})

const combinations: Array<[string, readonly User[]]> = (
  [
    ['OtaSession'],
    ['FotaClient'],
    ['OtaSession', 'FotaClient'],
    ['FotaClient', 'OtaSession'],
    ['OtaSession', 'OtaSession'],
    ['FotaClient', 'FotaClient'],
  ] as const
).map((users) => [users.join(' + '), users])

describe('one OTA channel per session: each inbound message answered once, heard by every user', () => {
  it.each(combinations)('%s: one push_reply per config push, every user hears it', async (_name, users) => {
    await using rig = await startRig()
    await using attached = await attach(rig, users)
    const wire = configWire(rig)
    const url = 'http://127.0.0.1:1/config.json'

    await wire.push('101', configParams('cfg-a', url))
    await wire.push('102', { configId: 'cfg-bad', sign: 'zz' })
    // A third push is the fence: replies go out in order, so once its reply is here a second
    // answer to either push before it would be here too.
    await wire.push('103', configParams('cfg-c', url))
    await waitFor(() => wire.replies.find((r) => r.id === '103'), 3000, 'the reply to the fence')

    expect(wire.replies).toEqual([
      { id: '101', code: 200, data: {} },
      { id: '102', code: 460, data: {}, message: 'invalid config push' },
      { id: '103', code: 200, data: {} },
    ])
    for (const h of attached.heard) {
      expect(h.configs).toEqual(['cfg-a', 'cfg-c'])
      expect(h.errors.map((e) => e.code)).toEqual(['ERR_OFFER_INVALID'])
    }
  })

  it.each(combinations)('%s: a refused upgrade push is reported once as step -1', async (_name, users) => {
    await using rig = await startRig()
    await using attached = await attach(rig, users)
    await rig.pushRaw('{"code":"1000","data":{"version":"2.0.0",')
    await waitFor(() => attached.heard.every((h) => h.errors.length > 0), 3000, 'every user told')
    // The fence: a step reported after every user heard the refusal.
    await rig.connection.publish(
      Topics.otaProgress(rig.identity),
      { id: '9', params: { step: '7', desc: 'fence' } },
      { qos: 0 },
    )
    await waitFor(() => rig.progress.find((p) => p.desc === 'fence'), 3000, 'the fence')
    expect(rig.progress.map((p) => p.step)).toEqual(['-1', '7'])
    expect(rig.progress[0]?.desc).toMatch(/^invalid offer: /)
  })

  it('two FotaClients with the same versions inform each module once, at start and after a reconnect', async () => {
    await using rig = await startRig()
    const firmware = { version: '1.0.0', modules: { MCU: { version: '0.9.1' } } }
    await using a = new FotaClient(rig.connection, firmware)
    await using b = new FotaClient(rig.connection, { ...firmware, modules: { ...firmware.modules, BLE: {} } })
    await a.start()
    await b.start()
    const informs = () => rig.informs.map((i) => `${i.module ?? 'default'}@${i.version}`)
    await waitFor(() => rig.informs.length >= 2, 2000, 'the informs at start')

    const reconnected = new Promise((resolve) => rig.connection.once('connected', resolve))
    expect(rig.emu.kick(rig.identity.productKey, rig.identity.deviceName)).toBe(true)
    await reconnected
    await waitFor(() => rig.informs.length >= 4, 2000, 'the informs after the reconnect')
    // The fence: an inform asked for by name always goes out, after whatever was queued before it.
    await a.reportVersion('1.0.1', 'fence')
    await waitFor(() => rig.informs.find((i) => i.module === 'fence'), 2000, 'the fence')
    expect(informs()).toEqual(['default@1.0.0', 'MCU@0.9.1', 'default@1.0.0', 'MCU@0.9.1', 'fence@1.0.1'])
  })

  it('subscribes each OTA topic once, at the C SDK’s QoS, whoever attaches', async () => {
    await using broker = await RawBroker.start()
    await using connection = await new Connection({ ...device, brokerUrl: broker.url }).connect()
    await using fota = new FotaClient(connection, {})
    await fota.start()
    await using ota = new OtaSession(connection)
    await ota.ready
    await using second = new OtaSession(connection)
    await second.ready
    expect(broker.subscribed.map((s) => [s.topic, s.qos]).sort()).toEqual(
      [
        [Topics.otaUpgrade(device), 1],
        [Topics.reply(Topics.otaFirmwareGet(device)), 1],
        [Topics.configPush(device), 0],
        [Topics.otaRequest(device), 1],
        [Topics.reply(Topics.configGet(device)), 0],
      ].sort(),
    )
  })

  it('a user that closes leaves the others hearing; the last one unsubscribes', async () => {
    await using rig = await startRig()
    const file = rig.files.addFile({ data: firmwareBytes(2000, 61) })
    const ota = new OtaSession(rig.connection, { allowHttp: true })
    await ota.ready
    const fota = new FotaClient(rig.connection, { version: '1.0.0', allowHttp: true })
    await fota.start()
    const offers: string[] = []
    fota.on('fota', (offer) => offers.push(offer.version))
    let upgrades = 0
    rig.connection.on('message', (topic) => {
      if (topic === Topics.otaUpgrade(rig.identity)) upgrades += 1
    })

    await ota.close()
    await rig.push(offerData(file, { version: '2.0.0' }))
    await waitFor(() => offers.length > 0, 2000, 'the offer to the client still open')
    expect(offers).toEqual(['2.0.0'])

    await fota.close()
    // After the last user, the broker no longer sends the upgrade topic: a push to it is not
    // delivered, while a message on a topic the device still holds is (the fence).
    await rig.push(offerData(file, { version: '3.0.0' }))
    const fence = Topics.configPush(rig.identity)
    const seen = new Promise<void>((resolve) =>
      rig.connection.on('message', (topic) => (topic === fence ? resolve() : undefined)),
    )
    await rig.connection.subscribe(fence)
    await rig.emu.publish(fence, '{}', { qos: 1 })
    await seen
    expect(upgrades).toBe(1)
  })
})
