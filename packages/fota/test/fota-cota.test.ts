import { createHash } from 'node:crypto'
import { type LinkkitError, Topics } from '@linkkit/core'
import { describe, expect, it } from 'vitest'
import { FotaClient } from '../src/fota-client.js'
import type { ConfigOffer } from '../src/types.js'
import { type Rig, startRig, waitFor } from './helpers/rig.js'

const config = Buffer.from(JSON.stringify({ reportIntervalSeconds: 30, thresholds: [1, 2, 3] }))
const sha256 = createHash('sha256').update(config).digest('hex')

/** Sends `thing.config.push` (docs/protocol.md §2.3) and collects the device's push_reply messages. */
function configChannel(rig: Rig) {
  const pushTopic = Topics.configPush(rig.identity)
  const replies: Array<{ id: string; code: number; data: unknown }> = []
  rig.emu.onUplink(Topics.reply(pushTopic), ({ payload }) => {
    replies.push(JSON.parse(payload.toString()) as { id: string; code: number; data: unknown })
  })
  const push = (id: string, params: unknown) =>
    rig.emu.publish(pushTopic, JSON.stringify({ id, version: '1.0', params, method: 'thing.config.push' }), {
      qos: 1,
    })
  return { push, pushRaw: (payload: string) => rig.emu.publish(pushTopic, payload, { qos: 1 }), replies }
}

async function client(rig: Rig) {
  const fota = new FotaClient(rig.connection, { version: '1.0.0', allowHttp: true })
  await fota.start()
  const offers: ConfigOffer[] = []
  const errors: LinkkitError[] = []
  fota.on('config', (offer) => offers.push(offer))
  fota.on('error', (error) => errors.push(error))
  return { fota, offers, errors }
}

describe('FotaClient: remote configuration (COTA)', () => {
  it('a config push raises `config`, is answered 200, and fetchConfig returns the verified bytes', async () => {
    await using rig = await startRig()
    const file = rig.files.addFile({ data: config, name: 'config.json' })
    const { fota, offers } = await client(rig)
    await using _ = fota
    const channel = configChannel(rig)

    await channel.push('77', {
      configId: 'cfg-2024-01',
      configSize: config.length,
      sign: sha256,
      signMethod: 'Sha256',
      url: file.url,
      getType: 'file',
    })
    const offer = await waitFor(() => offers[0], 2000, 'the config event')
    expect(offer).toEqual({
      configId: 'cfg-2024-01',
      size: config.length,
      url: file.url,
      signMethod: 'SHA256',
      digest: sha256,
      getType: 'file',
    })
    await waitFor(() => channel.replies[0], 2000, 'the push_reply')
    expect(channel.replies).toEqual([{ id: '77', code: 200, data: {} }])

    const bytes = await fota.fetchConfig(offer)
    expect(Buffer.compare(bytes, config)).toBe(0)
    expect(rig.files.stats(file.id).requests).toBe(1)
  })

  it('fetchConfig rejects ERR_DIGEST_MISMATCH when the file does not match the sign', async () => {
    await using rig = await startRig()
    const file = rig.files.addFile({ data: config, name: 'config.json' })
    const { fota, offers } = await client(rig)
    await using _ = fota
    const channel = configChannel(rig)
    await channel.push('78', {
      configId: 'cfg-bad',
      configSize: config.length,
      sign: createHash('sha256').update('something else').digest('hex'),
      signMethod: 'Sha256',
      url: file.url,
      getType: 'file',
    })
    const offer = await waitFor(() => offers[0], 2000, 'the config event')

    await expect(fota.fetchConfig(offer)).rejects.toMatchObject({ code: 'ERR_DIGEST_MISMATCH' })
  })

  it('an invalid config push is answered with an error code and raised as ERR_OFFER_INVALID', async () => {
    await using rig = await startRig()
    const { fota, offers, errors } = await client(rig)
    await using _ = fota
    const channel = configChannel(rig)

    await channel.push('79', { configId: 'x', configSize: 10, sign: 'zz', signMethod: 'Sha256', url: 'nope' })
    await waitFor(() => channel.replies[0], 2000, 'the push_reply')
    expect(channel.replies[0]).toMatchObject({ id: '79' })
    expect(channel.replies[0]?.code).not.toBe(200)
    await channel.pushRaw('{"id":"80","params":')
    await waitFor(() => errors.length >= 2, 2000, 'two error events')
    expect(errors.map((e) => e.code)).toEqual(['ERR_OFFER_INVALID', 'ERR_OFFER_INVALID'])
    expect(errors[1]?.topic).toBe(Topics.configPush(rig.identity))
    expect(offers).toEqual([])
    expect(rig.connection.connected).toBe(true)
  })
})
