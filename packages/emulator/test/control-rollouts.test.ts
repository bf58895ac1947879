import { describe, expect, it } from 'vitest'
import { Emulator, type OtaRollout } from '../src/index.js'
import { control, errorOf } from './control-helpers.js'

const PK = 'a1CtlRoll01'
const devices = Array.from({ length: 6 }, (_, i) => ({
  productKey: PK,
  deviceName: `dev-${i}`,
  deviceSecret: `ctl-rollout-secret-${i}`.padEnd(32, 'x'),
}))

describe('control API: rollouts', () => {
  it('starts, lists, shows, pauses, resumes and cancels a rollout', async () => {
    await using emu = await Emulator.start({ devices })
    const fw = await emu.ota.addFirmware({ productKey: PK, version: '2.0.0', data: new Uint8Array(64) })
    const created = await control(emu, 'POST', 'rollouts', {
      productKey: PK,
      firmwareId: fw.id,
      deviceNames: ['dev-1', 'dev-2', 'dev-3'],
      maxConcurrent: 2,
      pauseOnFailure: '50%',
    })
    expect(created.status).toBe(201)
    const rollout = created.body as unknown as OtaRollout
    expect(rollout).toMatchObject({
      status: 'running',
      failureThreshold: 2,
      counts: { total: 3, active: 2, queued: 1, succeeded: 0, failed: 0, canceled: 0 },
      queue: ['dev-3'],
    })
    const listed = await control(emu, 'GET', `rollouts?productKey=${PK}`)
    expect((listed.body.rollouts as OtaRollout[]).map((r) => r.id)).toEqual([rollout.id])
    expect((await control(emu, 'GET', 'rollouts?productKey=other')).body).toEqual({ rollouts: [] })
    expect((await control(emu, 'GET', `rollouts/${rollout.id}`)).body).toMatchObject({ id: rollout.id })

    expect((await control(emu, 'POST', `rollouts/${rollout.id}/pause`, {})).body).toMatchObject({
      status: 'paused',
      pausedReason: 'paused by the operator',
    })
    const again = await control(emu, 'POST', `rollouts/${rollout.id}/pause`, {})
    expect([again.status, errorOf(again).code]).toEqual([409, 'ERR_OTA_STATE'])
    expect((await control(emu, 'POST', `rollouts/${rollout.id}/resume`, {})).body).toMatchObject({
      status: 'running',
    })
    const canceled = await control(emu, 'POST', `rollouts/${rollout.id}/cancel`, { reason: 'bad build' })
    expect(canceled.body).toMatchObject({ status: 'canceled' })
    for (const jobId of Object.values(rollout.jobs)) {
      expect(emu.ota.job(jobId)).toMatchObject({ status: 'canceled', reason: 'bad build' })
    }
    const resumeCanceled = await control(emu, 'POST', `rollouts/${rollout.id}/resume`, {})
    expect([resumeCanceled.status, errorOf(resumeCanceled).code]).toEqual([409, 'ERR_OTA_STATE'])
  })

  it('refuses bad rollout requests with 400/404 and a code, and starts nothing', async () => {
    await using emu = await Emulator.start({ devices })
    const fw = await emu.ota.addFirmware({ productKey: PK, version: '2.0.0', data: new Uint8Array(64) })
    const cases: Array<[unknown, number]> = [
      [{ productKey: PK, firmwareId: 'fw-404', percent: 10 }, 404],
      [{ productKey: PK, firmwareId: fw.id }, 400],
      [{ productKey: PK, firmwareId: fw.id, percent: '10' }, 400],
      [{ productKey: PK, firmwareId: fw.id, percent: 10, tag: 'a' }, 400],
      [{ productKey: PK, firmwareId: fw.id, deviceNames: 'dev-1' }, 400],
      [{ productKey: PK, firmwareId: fw.id, deviceNames: ['dev-1', 7] }, 400],
      [{ productKey: PK, firmwareId: fw.id, deviceNames: ['ghost'] }, 400],
      [{ productKey: PK, firmwareId: fw.id, percent: 10, maxConcurrent: 1.5 }, 400],
      [{ productKey: PK, firmwareId: fw.id, percent: 10, pauseOnFailure: { n: 1 } }, 400],
      [{ productKey: PK, firmwareId: fw.id, percent: 10, pauseOnFailure: '200%' }, 400],
      [{ productKey: PK, firmwareId: fw.id, percent: 10, extra: 1 }, 400],
      [{ productKey: 'a1Other', firmwareId: fw.id, percent: 10 }, 400],
      ['[1,2]', 400],
    ]
    for (const [body, status] of cases) {
      const answer = await control(emu, 'POST', 'rollouts', body)
      expect([body, answer.status]).toEqual([body, status])
      expect(errorOf(answer).code).toBe('ERR_INVALID_ARGUMENT')
    }
    expect(emu.ota.rollouts.list()).toEqual([])
    expect(emu.ota.jobs()).toEqual([])
    for (const path of ['rollouts/nope', 'rollouts/nope/pause']) {
      const answer = await control(
        emu,
        path.endsWith('pause') ? 'POST' : 'GET',
        path,
        path.endsWith('pause') ? {} : undefined,
      )
      expect(answer.status).toBe(404)
    }
  })
})
