import { Connection, DEFAULT_INBOUND_LIMITS, isLinkkitError, type LinkkitError, Topics } from '@linkkit/core'
import mqtt from 'mqtt'
import { describe, expect, it } from 'vitest'
import { FotaClient } from '../../src/fota-client.js'
import { OtaSession, OtaState } from '../../src/ota-session.js'
import type { ConfigOffer, FirmwareOffer } from '../../src/types.js'
import { firmwareBytes, MiB, offerData } from '../helpers/firmware.js'
import { RawBroker } from '../helpers/raw-broker.js'
import { device, type Rig, startRig, waitFor } from '../helpers/rig.js'

// Finding 7c of issue 10: the upgrade-push and config-push topics skipped the documented 256 KiB
// and depth limits, so a 5 MiB push was parsed. Every OTA and COTA downlink now goes through core's
// bounded parseJson: refused unparsed, with a coded error, reported the way the protocol wants.

/** A valid offer (or config) made 5 MiB long by padding its extData: parsed, it would be accepted. */
const padded = (data: Record<string, unknown>) => ({ ...data, extData: { pad: 'x'.repeat(5 * MiB) } })
const nested = (data: Record<string, unknown>) => ({
  ...data,
  extData: JSON.parse(`${'{"a":'.repeat(100)}1${'}'.repeat(100)}`) as unknown,
})
const pushBody = (data: unknown) => JSON.stringify({ code: '1000', data, id: 1, message: 'success' })

const configParams = (size: number, url: string, sha256: string) => ({
  configId: 'cfg-attack',
  configSize: size,
  sign: sha256,
  signMethod: 'Sha256',
  url,
  getType: 'file',
})

async function fotaClient(rig: Rig) {
  const fota = new FotaClient(rig.connection, { version: '1.0.0', allowHttp: true })
  await fota.start()
  const offers: FirmwareOffer[] = []
  const configs: ConfigOffer[] = []
  const errors: LinkkitError[] = []
  fota.on('fota', (offer) => offers.push(offer))
  fota.on('config', (offer) => configs.push(offer))
  fota.on('error', (error) => errors.push(error))
  return { fota, offers, configs, errors }
}

/** Refused for the limit, before parsing: the error says which limit and keeps the coded cause. */
function expectRefusedForLimit(error: LinkkitError | undefined, limit: 'size' | 'depth') {
  expect(error?.code).toBe('ERR_OFFER_INVALID')
  const cause = error?.cause
  expect(isLinkkitError(cause, 'ERR_MALFORMED_PAYLOAD')).toBe(true)
  if (limit === 'size') {
    expect(error?.details).toMatchObject({ maxPayloadBytes: DEFAULT_INBOUND_LIMITS.maxPayloadBytes })
    expect(error?.message).toMatch(/over the 262144 limit/)
  } else {
    expect(error?.message).toMatch(/nests deeper than 32 levels/)
  }
}

/** The device is still up and still takes a good offer after the attack. */
async function stillTakesAGoodOffer(rig: Rig, offers: FirmwareOffer[]) {
  expect(rig.connection.connected).toBe(true)
  const file = rig.files.addFile({ data: firmwareBytes(1000, 7) })
  await rig.push(offerData(file, { version: '3.0.0' }))
  await waitFor(() => offers.find((o) => o.version === '3.0.0'), 3000, 'the good offer')
}

describe('OTA and COTA downlinks are held to the inbound limits (issue 10, 7c)', () => {
  it.each([
    ['5 MiB', padded, 'size'],
    ['100 levels deep', nested, 'depth'],
  ] as const)(
    'an upgrade push of %s is refused unparsed, reported as step -1, and the device stays up',
    async (_name, make, limit) => {
      await using rig = await startRig()
      const { fota, offers, errors } = await fotaClient(rig)
      await using _ = fota
      const file = rig.files.addFile({ data: firmwareBytes(1000, 3) })
      await rig.pushRaw(pushBody(make(offerData(file))))
      await waitFor(() => errors[0], 5000, 'the error event')
      expectRefusedForLimit(errors[0], limit)
      await waitFor(() => rig.progress[0], 2000, 'the progress report')
      expect(rig.progress[0]?.step).toBe('-1')
      expect(rig.progress[0]?.desc).toMatch(/^invalid offer: /)
      expect(offers).toEqual([])
      await stillTakesAGoodOffer(rig, offers)
    },
  )

  it('an offer just under the limit is still accepted', async () => {
    await using rig = await startRig()
    const { fota, offers, errors } = await fotaClient(rig)
    await using _ = fota
    const file = rig.files.addFile({ data: firmwareBytes(1000, 5) })
    await rig.push({ ...offerData(file), extData: { note: 'n'.repeat(200 * 1024) } })
    await waitFor(() => offers[0], 3000, 'the offer')
    expect(errors).toEqual([])
  })

  it('an unsolicited firmware/get reply of 5 MiB is refused and reported as step -1', async () => {
    await using rig = await startRig()
    const { fota, offers, errors } = await fotaClient(rig)
    await using _ = fota
    const file = rig.files.addFile({ data: firmwareBytes(1000, 4) })
    const reply = JSON.stringify({ id: '12', code: 200, data: padded(offerData(file)), message: 'success' })
    await rig.emu.publish(Topics.reply(Topics.otaFirmwareGet(rig.identity)), reply, { qos: 1 })
    await waitFor(() => errors[0], 5000, 'the error event')
    expectRefusedForLimit(errors[0], 'size')
    await waitFor(() => rig.progress[0], 2000, 'the progress report')
    expect(rig.progress[0]?.step).toBe('-1')
    await stillTakesAGoodOffer(rig, offers)
  })

  it('a config push of 5 MiB is answered 460 with its id, raises no config, and the device stays up', async () => {
    await using rig = await startRig()
    const { fota, offers, configs, errors } = await fotaClient(rig)
    await using _ = fota
    const pushTopic = Topics.configPush(rig.identity)
    const replies: Array<{ id: string; code: number }> = []
    rig.emu.onUplink(Topics.reply(pushTopic), ({ payload }) => {
      replies.push(JSON.parse(payload.toString()) as { id: string; code: number })
    })
    const params = padded(configParams(10, 'http://127.0.0.1:1/config.json', 'ab'.repeat(32)))
    await rig.emu.publish(
      pushTopic,
      JSON.stringify({ id: '91', version: '1.0', params, method: 'thing.config.push' }),
      {
        qos: 1,
      },
    )
    await waitFor(() => replies[0], 5000, 'the push_reply')
    expect(replies[0]).toMatchObject({ id: '91', code: 460 })
    expectRefusedForLimit(errors[0], 'size')
    expect(configs).toEqual([])
    await stillTakesAGoodOffer(rig, offers)
  })

  it('fota.request() rejects at once with the coded error when its reply is 5 MiB', async () => {
    await using broker = await RawBroker.start()
    await using connection = await new Connection({
      ...device,
      brokerUrl: broker.url,
      requestTimeoutMs: 15_000,
    }).connect()
    const cloud = await mqtt.connectAsync(broker.url, { clientId: 'cloud-firmware-get' })
    try {
      const getTopic = Topics.otaFirmwareGet(device)
      await cloud.subscribeAsync(getTopic)
      cloud.on('message', (_topic, payload) => {
        const { id } = JSON.parse(payload.toString()) as { id: string }
        const data = padded({
          size: 10,
          version: '9.9.9',
          url: 'https://example.invalid/fw.bin',
          md5: 'a'.repeat(32),
          sign: 'a'.repeat(32),
          signMethod: 'Md5',
        })
        cloud.publish(Topics.reply(getTopic), JSON.stringify({ id, code: 200, data, message: 'success' }), {
          qos: 1,
        })
      })
      await using fota = new FotaClient(connection, { version: '1.0.0' })
      const error = await fota.request().catch((e: unknown) => e)
      // Not the request timeout: the refused reply itself failed the request.
      expect(isLinkkitError(error, 'ERR_MALFORMED_PAYLOAD')).toBe(true)
      expect((error as LinkkitError).message).toMatch(/over the 262144 limit/)
      expect(connection.connected).toBe(true)
    } finally {
      await cloud.endAsync(true)
    }
  })

  describe('OtaSession (IOT_OTA_*)', () => {
    it.each([
      ['upgrade', (rig: Rig) => Topics.otaUpgrade(rig.identity)],
      ['legacy request', (rig: Rig) => Topics.otaRequest(rig.identity)],
    ])(
      'a 5 MiB push on the %s topic is refused: lastError, step -1, state stays INITED',
      async (_name, topicOf) => {
        await using rig = await startRig()
        await using ota = new OtaSession(rig.connection, { allowHttp: true })
        await ota.ready
        const errors: LinkkitError[] = []
        ota.on('error', (error) => errors.push(error))
        const file = rig.files.addFile({ data: firmwareBytes(1000, 6) })
        await rig.emu.publish(topicOf(rig), pushBody(padded(offerData(file))), { qos: 1 })
        await waitFor(() => errors[0], 5000, 'the error event')
        // OtaSession keeps core's code for a payload it cannot read, as for bad JSON.
        expect(ota.lastError?.code).toBe('ERR_MALFORMED_PAYLOAD')
        expect(ota.lastError?.message).toMatch(/over the 262144 limit/)
        expect(ota.state).toBe(OtaState.Inited)
        await waitFor(() => rig.progress[0], 2000, 'the progress report')
        expect(rig.progress[0]?.step).toBe('-1')
        await rig.push(offerData(file))
        await waitFor(() => ota.isFetching(), 3000, 'the good offer')
      },
    )

    it('a 5 MiB config push is answered 460 with its id', async () => {
      await using rig = await startRig()
      await using ota = new OtaSession(rig.connection, { allowHttp: true })
      await ota.ready
      ota.on('error', () => {})
      const pushTopic = Topics.configPush(rig.identity)
      const replies: Array<{ id: string; code: number }> = []
      rig.emu.onUplink(Topics.reply(pushTopic), ({ payload }) => {
        replies.push(JSON.parse(payload.toString()) as { id: string; code: number })
      })
      const params = padded(configParams(10, 'http://127.0.0.1:1/config.json', 'ab'.repeat(32)))
      await rig.emu.publish(
        pushTopic,
        JSON.stringify({ id: '92', version: '1.0', params, method: 'thing.config.push' }),
        {
          qos: 1,
        },
      )
      await waitFor(() => replies[0], 5000, 'the push_reply')
      expect(replies[0]).toMatchObject({ id: '92', code: 460 })
      expect(ota.state).toBe(OtaState.Inited)
      expect(ota.lastError?.code).toBe('ERR_MALFORMED_PAYLOAD')
    })
  })
})
