import { Topics } from '@linkkit/core'
import { describe, expect, it } from 'vitest'
import { readInbound } from '../src/ota-inbound.js'

const id = { productKey: 'a1Inbound01', deviceName: 'inbound-1' }
const json = (value: unknown) => Buffer.from(JSON.stringify(value))
const config = {
  configId: 'cfg-1',
  configSize: 10,
  sign: 'ab'.repeat(32),
  signMethod: 'Sha256',
  url: 'https://example.invalid/c.json',
}
const firmware = {
  version: '2.0.0',
  size: 10,
  url: 'https://example.invalid/fw.bin',
  md5: 'ab'.repeat(16),
  signMethod: 'Md5',
}

describe('readInbound: each OTA downlink read once, with what to answer', () => {
  const pushTopic = Topics.configPush(id)

  it('a config push is answered under its own id, a number normalised to its decimal string', () => {
    expect(readInbound('configPush', pushTopic, json({ id: 7, params: config }))).toMatchObject({
      kind: 'config',
      replyId: '7',
      offer: { configId: 'cfg-1', signMethod: 'SHA256' },
    })
  })

  it('an id hidden inside params is never answered: only the envelope’s id, or the head of an unreadable payload', () => {
    const hidden = readInbound(
      'configPush',
      pushTopic,
      json({ params: { ...config, id: 'attacker', sign: 'zz' } }),
    )
    expect(hidden).toMatchObject({ kind: 'refused', offer: false })
    expect(hidden).not.toHaveProperty('replyId')
    const unreadable = readInbound('configPush', pushTopic, Buffer.from('{"id":"80","params":'))
    expect(unreadable).toMatchObject({ kind: 'refused', replyId: '80' })
    expect(unreadable.kind === 'refused' && unreadable.error.code).toBe('ERR_MALFORMED_PAYLOAD')
  })

  it('an id that is no Alink id (negative, too long, an object) gets no answer', () => {
    for (const bad of [-1, 'x'.repeat(65), { id: 1 }]) {
      expect(readInbound('configPush', pushTopic, json({ id: bad, params: config }))).not.toHaveProperty(
        'replyId',
      )
    }
  })

  it('the device’s own legacy request, echoed by the broker, is no offer; one with a url is', () => {
    const topic = Topics.otaRequest(id)
    expect(readInbound('request', topic, json({ id: '1', params: { version: '1.0.0' } }))).toEqual({
      kind: 'ignored',
    })
    expect(
      readInbound('request', topic, json({ code: '1000', message: 'success', id: 2, data: firmware })),
    ).toMatchObject({ kind: 'offer', offer: { version: '2.0.0' } })
  })

  it('an unsolicited firmware/get reply: code 200 (number or string) with data is an offer; {} or a failure is nothing', () => {
    const topic = Topics.reply(Topics.otaFirmwareGet(id))
    expect(
      readInbound('firmwareGetReply', topic, json({ id: '3', code: '200', data: firmware })),
    ).toMatchObject({
      kind: 'offer',
    })
    expect(readInbound('firmwareGetReply', topic, json({ id: '3', code: 200, data: {} }))).toEqual({
      kind: 'ignored',
    })
    expect(readInbound('firmwareGetReply', topic, json({ id: '3', code: 460, data: firmware }))).toEqual({
      kind: 'ignored',
    })
  })

  it('a refused firmware offer is marked for step -1; a refused config is not', () => {
    const upgrade = readInbound('upgrade', Topics.otaUpgrade(id), json({ message: 'fail', data: firmware }))
    expect(upgrade).toMatchObject({ kind: 'refused', offer: true, error: { code: 'ERR_OFFER_INVALID' } })
    const reply = readInbound(
      'configGetReply',
      Topics.reply(Topics.configGet(id)),
      json({ id: '4', code: 200, data: {} }),
    )
    expect(reply).toMatchObject({ kind: 'refused', offer: false })
  })
})
