import type { MqttClient } from 'mqtt'
import { describe, expect, it } from 'vitest'
import { Emulator, type OtaJob } from '../src/index.js'
import { DEVICE, DN, PK } from './helpers.js'
import { device, INFORM, image, informCount, PROGRESS, progressCount, send } from './ota-helpers.js'

async function pushedJob(emu: Emulator, module?: string): Promise<{ c: MqttClient; job: OtaJob }> {
  const fw = await emu.ota.addFirmware({
    productKey: PK,
    version: '2.0.0',
    data: image(10),
    ...(module === undefined ? {} : { module }),
  })
  const c = await device(emu, { ss: true })
  const job = await emu.ota.push({ productKey: PK, deviceName: DN, firmware: fw })
  return { c, job }
}

describe('OTA job status', () => {
  it('moves to upgrading on the first step and to failed on -2, keeping step and desc', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const { c, job } = await pushedJob(emu)
    const statuses: string[] = []
    emu.ota.on('ota:job', (changed) => {
      if (changed.id === job.id) statuses.push(changed.status)
    })
    await send(c, PROGRESS, { id: '1', params: { step: '0', desc: 'Enter in downloading state' } })
    await send(c, PROGRESS, { id: '2', params: { step: '0', desc: '' } })
    await send(c, PROGRESS, { id: 3, params: { step: 40 } })
    await send(c, PROGRESS, { id: '4', params: { step: '-2', desc: 'fetch failed' } })
    const failed = await emu.ota.waitForJob(job.id, 'failed', 2000)
    expect(statuses).toEqual(['upgrading', 'failed'])
    expect(failed).toMatchObject({ status: 'failed', step: -2, failure: { step: -2, desc: 'fetch failed' } })
    const progress = emu.device(PK, DN)?.ota?.progress ?? []
    expect(progress.map((p) => [p.step, p.valid, p.jobId])).toEqual([
      [0, true, job.id],
      [0, true, job.id],
      [40, true, job.id],
      [-2, true, job.id],
    ])
    expect(progress[0]?.desc).toBe('Enter in downloading state')
    expect(progress.every((p) => typeof p.at === 'number')).toBe(true)
  })

  it('succeeds only when the device informs the target version, not on step 100', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const { c, job } = await pushedJob(emu)
    await send(c, INFORM, { id: 0, params: { version: '1.0.0' } })
    await send(c, PROGRESS, { id: '1', params: { step: '100', desc: '' } })
    await progressCount(emu, 1)
    expect(emu.ota.job(job.id)?.status).toBe('upgrading')
    await expect(emu.ota.waitForJob(job.id, 'succeeded', 100)).rejects.toMatchObject({
      code: 'ERR_REQUEST_TIMEOUT',
    })
    await send(c, INFORM, { id: 7, params: { version: '2.0.0' } })
    expect(await emu.ota.waitForJob(job.id, 'succeeded', 2000)).toMatchObject({ status: 'succeeded' })
    expect(emu.device(PK, DN)).toMatchObject({ version: '2.0.0', versions: { default: '2.0.0' } })
  })

  it('tracks versions per module and applies informs to that module only', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const { c, job } = await pushedJob(emu, 'MCU')
    await send(c, INFORM, '{"id":"1","params":{"version":"2.0.0"}}')
    await send(c, INFORM, { id: 2, params: { version: '1.0.0', module: 'MCU' } })
    await send(c, INFORM, { id: 3, params: { version: '2.0.0', module: 'default' } })
    await informCount(emu, 3)
    expect(emu.ota.job(job.id)?.status).toBe('pushed')
    expect(emu.device(PK, DN)).toMatchObject({
      version: '2.0.0',
      versions: { default: '2.0.0', MCU: '1.0.0' },
    })
    await send(c, INFORM, '{"id":4, "params":{"version":"2.0.0","module":"MCU"}}')
    await emu.ota.waitForJob(job.id, 'succeeded', 2000)
    expect(emu.device(PK, DN)?.versions).toEqual({ default: '2.0.0', MCU: '2.0.0' })
  })

  it('records malformed progress and informs as invalid and keeps serving the device', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const { c, job } = await pushedJob(emu)
    const bad = [
      'not json',
      '[]',
      '{"id":1}',
      '{"id":1,"params":{"step":"abc"}}',
      '{"id":1,"params":{"step":"-9"}}',
      '{"id":1,"params":{"step":"101"}}',
      '{"id":1,"params":{"step":"5","desc":42}}',
      '{"id":1,"params":{"step":"5","module":7}}',
    ]
    for (const payload of bad) await send(c, PROGRESS, payload)
    for (const payload of ['{', '{"params":{}}', '{"params":{"version":""}}', '{"params":"x"}']) {
      await send(c, INFORM, payload)
    }
    await progressCount(emu, bad.length)
    await informCount(emu, 4)
    const snapshot = emu.device(PK, DN)
    expect(snapshot?.ota?.progress.map((p) => p.valid)).toEqual(bad.map(() => false))
    expect(snapshot?.ota?.progress[0]).toMatchObject({ raw: 'not json', error: 'payload is not valid JSON' })
    expect(snapshot?.ota?.informs.every((i) => !i.valid)).toBe(true)
    expect(snapshot?.versions).toEqual({})
    expect(emu.ota.job(job.id)?.status).toBe('pushed')
    expect(c.connected).toBe(true)
    await send(c, PROGRESS, { id: 9, params: { step: '3' } })
    await emu.ota.waitForJob(job.id, 'upgrading', 2000)
  })

  it('rejects waitForJob when the job ends otherwise, and lists jobs per device', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const { c, job } = await pushedJob(emu)
    const waiting = expect(emu.ota.waitForJob(job.id, 'succeeded', 2000)).rejects.toMatchObject({
      code: 'ERR_OTA_STATE',
    })
    await send(c, PROGRESS, { id: 1, params: { step: '-3', desc: 'md5 mismatch' } })
    await waiting
    expect(emu.ota.jobs({ productKey: PK }).map((j) => j.id)).toEqual([job.id])
    expect(emu.ota.jobs({ productKey: PK, deviceName: 'other' })).toEqual([])
    expect(emu.device(PK, DN)?.ota?.jobs).toMatchObject([{ id: job.id, status: 'failed' }])
  })

  it('keys progress and informs on the topic, not on the publishing client', async () => {
    const sub = { productKey: 'a1Sub000000', deviceName: 'sub1', deviceSecret: 'x'.repeat(32) }
    await using emu = await Emulator.start({ devices: [DEVICE, sub] })
    emu.acl.allow(DEVICE, sub)
    const fw = await emu.ota.addFirmware({ productKey: sub.productKey, version: '9.0', data: image(4) })
    const job = await emu.ota.push({ ...sub, firmware: fw })
    const gateway = await device(emu, { ss: true })
    await send(gateway, `/ota/device/inform/${sub.productKey}/${sub.deviceName}`, {
      params: { version: '9.0' },
    })
    await emu.ota.waitForJob(job.id, 'succeeded', 2000)
    expect(emu.device(sub.productKey, sub.deviceName)?.version).toBe('9.0')
    expect(emu.device(PK, DN)?.versions ?? {}).toEqual({})
  })
})
