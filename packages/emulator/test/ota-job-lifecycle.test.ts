import type { IClientOptions, MqttClient } from 'mqtt'
import { describe, expect, it } from 'vitest'
import { DEFAULT_UPGRADE_TIMEOUT_MS, Emulator, type Firmware, type OtaJob } from '../src/index.js'
import { nextOn } from './alink-helpers.js'
import { control, errorOf } from './control-helpers.js'
import { client, closed, credentials, DEVICE, DN, nextMessage, PK } from './helpers.js'
import { device, FakeClock, INFORM, image, PROGRESS, send, topicsOf, UPGRADE } from './ota-helpers.js'

const SENTINEL = `/ext/ntp/${PK}/${DN}/response`

async function firmware(emu: Emulator, version: string): Promise<Firmware> {
  return emu.ota.addFirmware({ productKey: PK, version, data: image(16) })
}

/** A device that informed 1.0.0, then took the offer of 2.0.0 and reported a first step. */
async function upgrading(emu: Emulator, timeoutMs?: number): Promise<{ c: MqttClient; job: OtaJob }> {
  const c = await device(emu, { ss: true })
  await send(c, INFORM, { id: 1, params: { version: '1.0.0' } })
  const job = await emu.ota.push({
    productKey: PK,
    deviceName: DN,
    firmware: await firmware(emu, '2.0.0'),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  })
  await send(c, PROGRESS, { id: 2, params: { step: '10', desc: '' } })
  await emu.ota.waitForJob(job.id, 'upgrading')
  return { c, job }
}

describe('OTA job lifecycle: upgrade timeout', () => {
  it('fails a job stuck upgrading once timeoutMs has passed since its first progress', async () => {
    const clock = new FakeClock()
    await using emu = await Emulator.start({ devices: [DEVICE], clock })
    const { c, job } = await upgrading(emu, 60_000)
    expect(emu.ota.job(job.id)).toMatchObject({ status: 'upgrading', deadlineAt: clock.now() + 60_000 })
    clock.advance(30_000)
    await send(c, PROGRESS, { id: 3, params: { step: '60', desc: '' } })
    clock.advance(29_999)
    expect(emu.ota.job(job.id)?.status).toBe('upgrading')
    const failed = emu.ota.waitForJob(job.id, 'failed')
    clock.advance(1)
    expect(await failed).toMatchObject({
      status: 'failed',
      endedBy: 'timeout',
      reason: 'no version 2.0.0 informed within 60000 ms of the first progress report',
      failure: undefined,
      deadlineAt: undefined,
    })
    // The job no longer blocks the module: the platform accepts the next push at once.
    const next = await emu.ota.push({
      productKey: PK,
      deviceName: DN,
      firmware: await firmware(emu, '2.0.1'),
    })
    expect(next.status).toBe('pushed')
    // A late inform of the old target does not revive the failed job.
    await send(c, INFORM, { id: 4, params: { version: '2.0.0' } })
    expect(emu.ota.job(job.id)?.status).toBe('failed')
  })

  it('defaults to 30 minutes, starts only with the first progress and stops when the job ends', async () => {
    const clock = new FakeClock()
    await using emu = await Emulator.start({ devices: [DEVICE], clock })
    const c = await device(emu, { ss: true })
    const job = await emu.ota.push({ productKey: PK, deviceName: DN, firmware: await firmware(emu, '2.0.0') })
    expect(job).toMatchObject({
      status: 'pushed',
      timeoutMs: DEFAULT_UPGRADE_TIMEOUT_MS,
      deadlineAt: undefined,
    })
    expect(DEFAULT_UPGRADE_TIMEOUT_MS).toBe(1_800_000)
    clock.advance(10 * DEFAULT_UPGRADE_TIMEOUT_MS)
    expect(emu.ota.job(job.id)?.status).toBe('pushed')
    const started = clock.now()
    await send(c, PROGRESS, { id: 1, params: { step: '0', desc: '' } })
    await emu.ota.waitForJob(job.id, 'upgrading')
    expect(emu.ota.job(job.id)?.deadlineAt).toBe(started + DEFAULT_UPGRADE_TIMEOUT_MS)
    expect(clock.pending).toBe(1)
    await send(c, INFORM, { id: 2, params: { version: '2.0.0' } })
    await emu.ota.waitForJob(job.id, 'succeeded')
    expect(clock.pending).toBe(0)
  })

  it('refuses a timeoutMs that is not an integer from 1 to 2147483647, and a clock without timers', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const fw = await firmware(emu, '2.0.0')
    for (const timeoutMs of [0, -5, 1.5, 2 ** 31, Number.NaN]) {
      await expect(
        emu.ota.push({ productKey: PK, deviceName: DN, firmware: fw, timeoutMs }),
      ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    }
    expect(emu.ota.jobs()).toEqual([])
    await expect(Emulator.start({ clock: { now: () => 0 } as never })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTIONS',
    })
  })
})

describe('OTA job lifecycle: cancel', () => {
  it('cancels an upgrading job with a reason; later progress and informs no longer count', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const { c, job } = await upgrading(emu)
    const changes: Array<[string, string | undefined]> = []
    emu.ota.on('ota:job', (changed, previous) => changes.push([changed.status, previous]))
    const canceled = emu.ota.cancel(job.id, 'wrong batch')
    expect(canceled).toMatchObject({ status: 'canceled', endedBy: 'cancel', reason: 'wrong batch' })
    expect(changes).toEqual([['canceled', 'upgrading']])
    await send(c, PROGRESS, { id: 5, params: { step: '90', desc: '' } })
    await send(c, INFORM, { id: 6, params: { version: '2.0.0' } })
    expect(emu.ota.job(job.id)).toMatchObject({ status: 'canceled', step: 10 })
    expect(() => emu.ota.cancel(job.id)).toThrow(expect.objectContaining({ code: 'ERR_OTA_STATE' }))
    expect(() => emu.ota.cancel('job-404')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    const next = await emu.ota.push({
      productKey: PK,
      deviceName: DN,
      firmware: await firmware(emu, '3.0.0'),
    })
    expect(next.status).toBe('pushed')
  })

  it('cancels a job the device has not received yet: it is not offered when the device connects', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const job = await emu.ota.push({ productKey: PK, deviceName: DN, firmware: await firmware(emu, '2.0.0') })
    expect(emu.ota.cancel(job.id)).toMatchObject({ status: 'canceled', reason: 'canceled by the operator' })
    const c = await device(emu, { ss: true })
    const sentinel = nextMessage(c, SENTINEL)
    await emu.publish(SENTINEL, '{}')
    await sentinel
    expect(topicsOf(c)).toEqual([SENTINEL])
    expect(emu.ota.job(job.id)?.pushCount).toBe(0)
  })

  it('cancels through the control API: 200 with the job, 409 once it ended, 404 for no job', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const { job } = await upgrading(emu)
    const answer = await control(emu, 'POST', `jobs/${job.id}/cancel`, { reason: 'from a script' })
    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({ id: job.id, status: 'canceled', reason: 'from a script' })
    const again = await control(emu, 'POST', `jobs/${job.id}/cancel`, {})
    expect([again.status, errorOf(again).code]).toEqual([409, 'ERR_OTA_STATE'])
    const none = await control(emu, 'POST', 'jobs/job-99/cancel')
    expect([none.status, errorOf(none).code]).toEqual([404, 'ERR_INVALID_ARGUMENT'])
    const bad = await control(emu, 'POST', `jobs/${job.id}/cancel`, { reason: 7 })
    expect(bad.status).toBe(400)
  })

  it('takes timeoutMs on a push through the control API', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const fw = await firmware(emu, '2.0.0')
    const body = { productKey: PK, deviceName: DN, firmwareId: fw.id }
    const pushed = await control(emu, 'POST', 'push', { ...body, timeoutMs: 120_000 })
    expect([pushed.status, pushed.body.timeoutMs]).toEqual([201, 120_000])
    const bad = await control(emu, 'POST', 'push', { ...body, timeoutMs: 'soon' })
    expect([bad.status, errorOf(bad).code]).toEqual([400, 'ERR_INVALID_ARGUMENT'])
  })
})

describe('OTA job lifecycle: versions', () => {
  it('fails the job when the device comes back informing neither the source nor the target', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const { c, job } = await upgrading(emu)
    expect(job.sourceVersion).toBe('1.0.0')
    emu.kick(PK, DN)
    await closed(c)
    const back = await device(emu, { ss: true })
    // The source version again is no failure: 3.x informs after every reconnect, mid-download too.
    await send(back, INFORM, { id: 1, params: { version: '1.0.0' } })
    await send(back, INFORM, { id: 2, params: { version: '1.0.0', module: 'other' } })
    expect(emu.ota.job(job.id)?.status).toBe('upgrading')
    const failed = emu.ota.waitForJob(job.id, 'failed')
    await send(back, INFORM, { id: 3, params: { version: '1.5.0' } })
    expect(await failed).toMatchObject({
      endedBy: 'version',
      reason: 'the device informed 1.5.0, neither the source 1.0.0 nor the target 2.0.0',
    })
    const next = await emu.ota.push({
      productKey: PK,
      deviceName: DN,
      firmware: await firmware(emu, '2.0.0'),
    })
    expect(next).toMatchObject({ status: 'pushed', sourceVersion: '1.5.0' })
  })

  it('takes srcVersion as the source, and decides nothing when the source is unknown', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const c = await device(emu, { ss: true })
    const fw = await firmware(emu, '2.0.0')
    const job = await emu.ota.push({ productKey: PK, deviceName: DN, firmware: fw })
    expect(job.sourceVersion).toBeUndefined()
    await send(c, PROGRESS, { id: 1, params: { step: '5', desc: '' } })
    await send(c, INFORM, { id: 2, params: { version: '7.7.7' } })
    expect(emu.ota.job(job.id)).toMatchObject({ status: 'upgrading', sourceVersion: undefined })
    emu.ota.cancel(job.id)
    const diff = await emu.ota.push({ productKey: PK, deviceName: DN, firmware: fw, srcVersion: '7.7.7' })
    expect(diff).toMatchObject({ status: 'pushed', sourceVersion: '7.7.7' })
    await send(c, PROGRESS, { id: 3, params: { step: '5', desc: '' } })
    await send(c, INFORM, { id: 4, params: { version: '1.0.0' } })
    await expect(emu.ota.waitForJob(diff.id, 'failed')).resolves.toMatchObject({ endedBy: 'version' })
  })
})

describe('OTA job lifecycle: one offer per (re)connect', () => {
  /** A device as 3.x connects it: a persistent session that subscribes to its upgrade topic itself. */
  function persistent(emu: Emulator, params: Record<string, string> = {}): MqttClient {
    const options: IClientOptions = { ...credentials({ params }), clean: false }
    return client(emu.mqttUrl, options)
  }

  /** Connects, subscribes as 3.x does after every connect, and counts the offers on the wire. */
  async function session(
    emu: Emulator,
    params?: Record<string, string>,
  ): Promise<{ c: MqttClient; offers: () => number }> {
    const c = persistent(emu, params)
    const topics: string[] = []
    c.on('message', (topic) => topics.push(topic))
    await new Promise<void>((resolve, reject) => {
      c.once('connect', () => resolve())
      c.once('close', () => reject(new Error('closed before CONNACK')))
    })
    await c.subscribeAsync([UPGRADE, SENTINEL], { qos: 1 })
    // 3.x informs its version after every connect; its PUBACK also means the broker has every
    // earlier PUBACK of this client, so no offer is left unacknowledged when the test disconnects.
    await send(c, INFORM, { id: 0, params: { version: '1.0.0' } })
    return { c, offers: () => topics.filter((t) => t === UPGRADE).length }
  }

  /**
   * Resolves once everything the emulator sent the client before now has arrived, and the emulator
   * has the client's PUBACKs for it: the PUBACK of a publish made after them comes back only once
   * the broker read them (one TCP stream), so nothing is left for MQTT itself to redeliver.
   */
  async function settled(emu: Emulator, c: MqttClient): Promise<void> {
    const sentinel = nextOn(c, SENTINEL)
    await emu.publish(SENTINEL, '{}', { qos: 1 })
    await sentinel
    await send(c, INFORM, { id: 0, params: { version: '1.0.0' } })
  }

  it.each([
    ['a clean_session=0 device', {}],
    ['a clean_session=0 device with _ss=1 that also subscribed', { _ss: '1' }],
  ])('%s that reconnects with a pending job gets the offer once', async (_name, params) => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const fw = await firmware(emu, '2.0.0')
    let current = await session(emu, params)
    const job = await emu.ota.push({ productKey: PK, deviceName: DN, firmware: fw })
    await settled(emu, current.c)
    expect(current.offers()).toBe(1)
    for (const round of [2, 3]) {
      emu.kick(PK, DN)
      await closed(current.c)
      current = await session(emu, params)
      await settled(emu, current.c)
      expect(current.offers()).toBe(1)
      expect(current.c.connected).toBe(true)
      expect(emu.ota.job(job.id)?.pushCount).toBe(round)
    }
  })
})
