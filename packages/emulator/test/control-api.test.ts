import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Emulator, type Firmware, type OtaJob } from '../src/index.js'
import { control, errorOf, getWithHost } from './control-helpers.js'
import { DEVICE, DN, DS, OTHER, PK } from './helpers.js'
import { device, image, nextJson, UPGRADE } from './ota-helpers.js'

const start = () => Emulator.start({ devices: [DEVICE, { ...OTHER, deviceSecret: undefined }] })

describe('control API: devices', () => {
  it('lists devices and shows one without ever sending its secret', async () => {
    await using emu = await start()
    await device(emu)
    const list = await control(emu, 'GET', 'devices')
    expect(list.status).toBe(200)
    expect(list.body.devices).toEqual([
      expect.objectContaining({ productKey: PK, deviceName: DN, online: true, hasSecret: true }),
      expect.objectContaining({ productKey: OTHER.productKey, online: false, hasSecret: false }),
    ])
    const one = await control(emu, 'GET', `devices/${PK}/${DN}`)
    expect(one.status).toBe(200)
    expect(one.body).toMatchObject({ productKey: PK, deviceName: DN, online: true, connectCount: 1 })
    expect(one.body).not.toHaveProperty('deviceSecret')
    expect(list.text + one.text).not.toContain(DS)
  })

  it('answers 404 with a coded JSON error for an unknown device or endpoint, 405 for a wrong method', async () => {
    await using emu = await start()
    const unknown = await control(emu, 'GET', `devices/${PK}/nobody`)
    expect(unknown.status).toBe(404)
    expect(errorOf(unknown)).toEqual({ code: 'ERR_INVALID_ARGUMENT', message: `unknown device ${PK}/nobody` })
    expect((await control(emu, 'GET', 'nothing/here')).status).toBe(404)
    const wrong = await control(emu, 'DELETE', 'devices')
    expect(wrong.status).toBe(405)
    expect(wrong.headers.get('allow')).toBe('GET')
  })

  it('refuses a request whose Host names another machine (DNS rebinding)', async () => {
    await using emu = await start()
    const url = `${emu.httpUrl}/control/devices`
    expect((await getWithHost(url, 'evil.example:80', emu.controlToken)).status).toBe(403)
    expect((await getWithHost(url, `localhost:${new URL(emu.httpUrl).port}`, emu.controlToken)).status).toBe(
      200,
    )
  })
})

describe('control API: firmware and jobs', () => {
  it('adds firmware from base64, serves it at the returned URL, and hides the signed query', async () => {
    await using emu = await start()
    const data = image(5000)
    const added = await control(emu, 'POST', 'firmware', {
      productKey: PK,
      version: '1.1.0',
      signMethod: 'sha256',
      dataBase64: Buffer.from(data).toString('base64'),
    })
    expect(added.status).toBe(201)
    const fw = added.body as unknown as Firmware
    expect(fw).toMatchObject({ productKey: PK, version: '1.1.0', signMethod: 'SHA256', size: 5000 })
    expect(fw.sha256).toBe(createHash('sha256').update(data).digest('hex'))
    expect(fw.url).not.toContain('?')
    expect(added.text).not.toContain('Signature')
    const served = Buffer.from(await (await fetch(fw.url)).arrayBuffer())
    expect(served.equals(Buffer.from(data))).toBe(true)
    expect((await control(emu, 'GET', `firmware/${fw.id}`)).body).toMatchObject({ id: fw.id, url: fw.url })
  })

  it('adds firmware from an absolute path and refuses relative or missing ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'control-'))
    try {
      await using emu = await Emulator.start({ devices: [DEVICE], allowedFirmwareDir: dir })
      const path = join(dir, 'fw.bin')
      await writeFile(path, image(300))
      const added = await control(emu, 'POST', 'firmware', { productKey: PK, version: '2', path })
      expect(added.status).toBe(201)
      expect(added.body).toMatchObject({ size: 300, signMethod: 'Md5' })
      const relative = await control(emu, 'POST', 'firmware', {
        productKey: PK,
        version: '2',
        path: 'fw.bin',
      })
      expect(errorOf(relative).message).toBe('path must be an absolute file path')
      const missing = await control(emu, 'POST', 'firmware', {
        productKey: PK,
        version: '2',
        path: join(dir, 'x'),
      })
      expect(missing.status).toBe(400)
      expect(errorOf(missing).message).toBe('cannot read the firmware file: ENOENT')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('validates firmware bodies field by field', async () => {
    await using emu = await start()
    const base = { productKey: PK, version: '1.1.0', dataBase64: 'AAEC' }
    const cases: Array<[unknown, string]> = [
      [{ ...base, version: undefined }, 'version must be a non-empty string'],
      [{ ...base, dataBase64: '!!!' }, 'dataBase64 is not valid base64'],
      [{ ...base, path: '/tmp/x' }, 'give either dataBase64 or path'],
      [{ ...base, signMethod: 'crc32' }, 'signMethod must be "Md5" or "SHA256"'],
      [{ ...base, verison: '1' }, 'unknown field "verison"'],
      [[base], 'the body must be a JSON object'],
      ['{"productKey":', 'the body is not valid JSON'],
    ]
    for (const [body, message] of cases) {
      const answer = await control(emu, 'POST', 'firmware', body)
      expect([answer.status, errorOf(answer)]).toEqual([400, { code: 'ERR_INVALID_ARGUMENT', message }])
    }
    const version = await control(emu, 'POST', 'firmware', { ...base, version: 'x'.repeat(65) })
    expect(errorOf(version).message).toMatch(/version must be a string of 1-64/)
  })

  it('refuses a body that is not JSON (415) or too large (413)', async () => {
    await using emu = await start()
    const text = await control(emu, 'POST', 'kick', 'productKey=a', 'text/plain')
    expect(text.status).toBe(415)
    const big = await control(emu, 'POST', 'kick', { productKey: 'x'.repeat(1024 * 1024 + 1) })
    expect(big.status).toBe(413)
    expect(errorOf(big).code).toBe('ERR_INVALID_ARGUMENT')
  })

  it('pushes firmware to an online device and reports the job by id and by device', async () => {
    await using emu = await start()
    const c = await device(emu)
    await c.subscribeAsync(UPGRADE, { qos: 1 })
    const fw = (
      await control(emu, 'POST', 'firmware', { productKey: PK, version: '3.0.0', dataBase64: 'AAEC' })
    ).body as unknown as Firmware
    const offer = nextJson(c, UPGRADE)
    const pushed = await control(emu, 'POST', 'push', { productKey: PK, deviceName: DN, firmwareId: fw.id })
    expect(pushed.status).toBe(201)
    const job = pushed.body as unknown as OtaJob
    expect(job).toMatchObject({ productKey: PK, deviceName: DN, firmwareId: fw.id, status: 'pushed' })
    expect((await offer).data).toMatchObject({ version: '3.0.0', size: 3 })
    expect((await control(emu, 'GET', `jobs/${job.id}`)).body).toMatchObject({ id: job.id, status: 'pushed' })
    const mine = await control(emu, 'GET', `jobs?productKey=${PK}&deviceName=${DN}`)
    expect((mine.body.jobs as OtaJob[]).map((j) => j.id)).toEqual([job.id])
    const others = await control(emu, 'GET', `jobs?deviceName=${OTHER.deviceName}`)
    expect(others.body.jobs).toEqual([])
  })

  it('answers 404 for an unknown job, firmware or push target', async () => {
    await using emu = await start()
    expect(errorOf(await control(emu, 'GET', 'jobs/job-99')).message).toBe('no OTA job job-99')
    const noFirmware = await control(emu, 'POST', 'push', {
      productKey: PK,
      deviceName: DN,
      firmwareId: 'fw-9',
    })
    expect([noFirmware.status, errorOf(noFirmware).message]).toEqual([404, 'no firmware fw-9'])
    const fw = (await control(emu, 'POST', 'firmware', { productKey: PK, version: '3', dataBase64: 'AAEC' }))
      .body as unknown as Firmware
    const noDevice = await control(emu, 'POST', 'push', {
      productKey: PK,
      deviceName: 'ghost',
      firmwareId: fw.id,
    })
    expect([noDevice.status, errorOf(noDevice).message]).toEqual([404, `unknown device ${PK}/ghost`])
  })
})
