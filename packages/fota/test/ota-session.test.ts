import { Topics } from '@linkkit/core'
import { describe, expect, it } from 'vitest'
import { OtaSession, OtaState, type OtaType } from '../src/ota-session.js'
import { OtaProgress } from '../src/progress.js'
import { firmwareBytes, offerData } from './helpers/firmware.js'
import { type Rig, startRig, steps, waitFor } from './helpers/rig.js'

const fast = { limit: 3, baseDelayMs: 5, maxDelayMs: 20 }

async function session(rig: Rig, options: { idleTimeoutMs?: number } = {}) {
  const ota = new OtaSession(rig.connection, { allowHttp: true, retry: fast, ...options })
  await ota.ready
  return ota
}

/** Counts the pushes the device received, so a test knows one arrived even when it was ignored. */
function pushesReceived(rig: Rig): () => number {
  let count = 0
  const topic = Topics.otaUpgrade(rig.identity)
  rig.connection.on('message', (t) => {
    if (t === topic) count += 1
  })
  return () => count
}

/** The loop of ota_example_mqtt.c: fetchYield into a 1024-byte buffer until the fetch finishes. */
async function fetchAll(ota: OtaSession, parts: Buffer[] = []): Promise<{ image: Buffer; calls: number }> {
  const buffer = new Uint8Array(1024)
  let calls = 0
  while (!ota.isFetchFinish()) {
    const n = await ota.fetchYield(buffer, 1000)
    calls += 1
    expect(n).toBeLessThanOrEqual(buffer.length)
    parts.push(Buffer.from(buffer.subarray(0, n)))
    expect(ota.fetchedSize).toBe(parts.reduce((sum, p) => sum + p.length, 0))
  }
  return { image: Buffer.concat(parts), calls }
}

describe('OtaSession: the basic IOT_OTA_* loop', () => {
  it('push → PUSHED, fetchYield loop writes the whole image, checkFirmware() is true', async () => {
    await using rig = await startRig()
    const data = firmwareBytes(300_000, 51)
    const file = rig.files.addFile({ data })
    await using ota = await session(rig)
    const pushed: OtaType[] = []
    ota.on('pushed', (type) => pushed.push(type))
    expect(ota.state).toBe(OtaState.Inited)
    expect(ota.isFetching()).toBe(false)
    await ota.reportVersion('1.0.0')
    await waitFor(() => rig.informs[0], 2000, 'the inform')
    expect(rig.informs).toEqual([{ version: '1.0.0' }])

    await rig.push(offerData(file, { version: '2.0.0' }))
    await waitFor(() => ota.isFetching(), 2000, 'the push')
    expect(ota.state).toBe(OtaState.Pushed)
    expect(pushed).toEqual(['fota'])
    expect(ota.type).toBe('fota')
    expect(ota.version).toBe('2.0.0')
    expect(ota.fileSize).toBe(data.length)
    expect(ota.md5).toBe(file.md5)
    expect(ota.signMethod).toBe('Md5')
    expect(ota.fetchedSize).toBe(0)
    expect(rig.files.stats(file.id).requests).toBe(0)

    const { image, calls } = await fetchAll(ota)
    expect(calls).toBeGreaterThanOrEqual(Math.ceil(data.length / 1024))
    expect(Buffer.compare(image, data)).toBe(0)
    expect(ota.isFetchFinish()).toBe(true)
    expect(ota.isFetching()).toBe(false)
    expect(ota.state).toBe(OtaState.Fetched)
    expect(ota.fetchedSize).toBe(data.length)
    expect(ota.checkFirmware()).toBe(true)
    expect(ota.checkFirmware()).toBe(true)
    // The SDK's own progress is the forced step 0 on the first fetch; the rest is up to the application.
    await waitFor(() => rig.progress[0], 2000, 'step 0')
    expect(rig.progress).toEqual([{ step: '0', desc: 'Enter in downloading state' }])
    await ota.reportProgress(100, 'done')
    await waitFor(() => rig.progress[1], 2000, 'step 100')
    expect(rig.progress[1]).toEqual({ step: '100', desc: 'done' })
    expect(rig.files.stats(file.id).requests).toBe(1)
  })

  it('a corrupted image: checkFirmware() is false and step -3 is reported', async () => {
    await using rig = await startRig()
    const data = firmwareBytes(100_000, 52)
    const file = rig.files.addFile({ data })
    rig.files.faultsFor(file.id).corruptByte(4242)
    await using ota = await session(rig)
    await rig.push(offerData(file, { signMethod: 'SHA256' }))
    await waitFor(() => ota.isFetching(), 2000, 'the push')

    const { image } = await fetchAll(ota)
    expect(image.length).toBe(data.length)
    expect(ota.checkFirmware()).toBe(false)
    expect(ota.lastError?.code).toBe('ERR_DIGEST_MISMATCH')
    await waitFor(() => rig.progress.some((p) => p.step === '-3'), 2000, 'step -3')
    expect(steps(rig.progress)).toEqual(['0', '-3'])
  })

  it('fetchYield before a push rejects ERR_OTA_STATE and sets lastError', async () => {
    await using rig = await startRig()
    await using ota = await session(rig)
    await expect(ota.fetchYield(new Uint8Array(1024))).rejects.toMatchObject({ code: 'ERR_OTA_STATE' })
    expect(ota.lastError?.code).toBe('ERR_OTA_STATE')
    expect(() => ota.checkFirmware()).toThrow(expect.objectContaining({ code: 'ERR_OTA_STATE' }))
    expect(rig.progress).toEqual([])
  })

  it('reset() returns to INITED mid-fetch and a new push is accepted afterwards', async () => {
    await using rig = await startRig()
    const first = rig.files.addFile({ data: firmwareBytes(200_000, 53), name: 'a.bin' })
    const secondData = firmwareBytes(50_000, 54)
    const second = rig.files.addFile({ data: secondData, name: 'b.bin' })
    await using ota = await session(rig)
    await rig.push(offerData(first, { version: '2.0.0' }))
    await waitFor(() => ota.isFetching(), 2000, 'the push')
    expect(await ota.fetchYield(new Uint8Array(1024))).toBeGreaterThan(0)
    expect(ota.state).toBe(OtaState.Fetching)

    ota.reset()
    expect(ota.state).toBe(OtaState.Inited)
    expect(ota.isFetching()).toBe(false)
    expect(ota.type).toBe('none')
    expect(ota.fetchedSize).toBe(0)
    expect(ota.version).toBeUndefined()
    await expect(ota.fetchYield(new Uint8Array(1024))).rejects.toMatchObject({ code: 'ERR_OTA_STATE' })

    await rig.push(offerData(second, { version: '3.0.0' }))
    await waitFor(() => ota.isFetching(), 2000, 'the second push')
    expect(ota.version).toBe('3.0.0')
    const { image } = await fetchAll(ota)
    expect(Buffer.compare(image, secondData)).toBe(0)
    expect(ota.checkFirmware()).toBe(true)
  })

  it('ignores a push while FETCHING', async () => {
    await using rig = await startRig()
    const data = firmwareBytes(100_000, 55)
    const file = rig.files.addFile({ data, name: 'a.bin' })
    const other = rig.files.addFile({ data: firmwareBytes(10_000, 56), name: 'b.bin' })
    const received = pushesReceived(rig)
    await using ota = await session(rig)
    await rig.push(offerData(file, { version: '2.0.0' }))
    await waitFor(() => ota.isFetching(), 2000, 'the push')
    const buffer = new Uint8Array(1024)
    const head = Buffer.from(buffer.subarray(0, await ota.fetchYield(buffer)))
    expect(ota.state).toBe(OtaState.Fetching)

    await rig.push(offerData(other, { version: '9.9.9' }))
    await waitFor(() => received() === 2, 2000, 'the second push to arrive')
    expect(ota.version).toBe('2.0.0')
    expect(ota.fileSize).toBe(data.length)
    expect(ota.state).toBe(OtaState.Fetching)
    const { image } = await fetchAll(ota, [head])
    expect(Buffer.compare(image, data)).toBe(0)
    expect(ota.checkFirmware()).toBe(true)
    expect(rig.files.stats(other.id).requests).toBe(0)
  })

  it('fetchYield returns 0 when nothing arrives within its timeout, then goes on', async () => {
    await using rig = await startRig()
    const data = firmwareBytes(120_000, 57)
    const file = rig.files.addFile({ data })
    rig.files.faultsFor(file.id).stallAfter(40_000, 700)
    await using ota = await session(rig, { idleTimeoutMs: 5000 })
    await rig.push(offerData(file))
    await waitFor(() => ota.isFetching(), 2000, 'the push')
    const buffer = new Uint8Array(1024)
    const parts: Buffer[] = []
    let zeros = 0
    while (!ota.isFetchFinish()) {
      const started = Date.now()
      const n = await ota.fetchYield(buffer, 150)
      if (n === 0) {
        zeros += 1
        expect(Date.now() - started).toBeGreaterThanOrEqual(140)
        expect(ota.fetchedSize).toBe(40_000)
      }
      parts.push(Buffer.from(buffer.subarray(0, n)))
    }
    expect(zeros).toBeGreaterThanOrEqual(2)
    expect(Buffer.compare(Buffer.concat(parts), data)).toBe(0)
    expect(ota.checkFirmware()).toBe(true)
    // The stall outlasted fetchYield's timeout but not the idle timeout: still one request.
    expect(rig.files.stats(file.id).requests).toBe(1)
  })

  it('resumes with Range on the next fetchYield after the connection dropped', async () => {
    await using rig = await startRig()
    const data = firmwareBytes(200_000, 58)
    const file = rig.files.addFile({ data })
    rig.files.faultsFor(file.id).truncate(64 * 1024)
    await using ota = await session(rig)
    await rig.push(offerData(file))
    await waitFor(() => ota.isFetching(), 2000, 'the push')
    const { image } = await fetchAll(ota)
    expect(Buffer.compare(image, data)).toBe(0)
    expect(ota.checkFirmware()).toBe(true)
    expect(rig.files.stats(file.id).ranges).toEqual(['bytes=0-', `bytes=${64 * 1024}-`])
  })

  it('a config push makes a COTA fetch, checked against its Sha256 sign', async () => {
    await using rig = await startRig()
    const config = Buffer.from('{"sampleRateHz":50}')
    const file = rig.files.addFile({ data: config, name: 'config.json' })
    await using ota = await session(rig)
    const replies: unknown[] = []
    rig.emu.onUplink(`${Topics.configPush(rig.identity)}_reply`, ({ payload }) => {
      replies.push(JSON.parse(payload.toString()))
    })
    await rig.emu.publish(
      Topics.configPush(rig.identity),
      JSON.stringify({
        id: '5',
        version: '1.0',
        method: 'thing.config.push',
        params: {
          configId: 'cfg-1',
          configSize: config.length,
          sign: file.sha256,
          signMethod: 'Sha256',
          url: file.url,
          getType: 'file',
        },
      }),
      { qos: 1 },
    )
    await waitFor(() => ota.isFetching(), 2000, 'the config push')
    expect(ota.type).toBe('cota')
    await waitFor(() => replies.length > 0, 2000, 'the push_reply')
    expect(replies).toEqual([{ id: '5', code: 200, data: {} }])
    expect(ota.config).toMatchObject({ configId: 'cfg-1', size: config.length })
    expect(ota.fileSize).toBe(config.length)
    const { image } = await fetchAll(ota)
    expect(image.toString()).toBe(config.toString())
    expect(ota.checkFirmware()).toBe(true)
  })

  it('close() is idempotent and ends the session', async () => {
    await using rig = await startRig()
    const file = rig.files.addFile({ data: firmwareBytes(10_000, 59) })
    const ota = await session(rig)
    await ota.close()
    await ota.close()
    expect(ota.state).toBe(OtaState.Closed)
    await expect(ota.fetchYield(new Uint8Array(16))).rejects.toMatchObject({ code: 'ERR_OTA_STATE' })
    const received = pushesReceived(rig)
    await rig.push(offerData(file))
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(received()).toBe(0)
    expect(ota.isFetching()).toBe(false)
    expect(ota.state).toBe(OtaState.Closed)
  })

  it('reports failure steps and refuses steps outside [-4, 100]', async () => {
    await using rig = await startRig()
    await using ota = await session(rig)
    await ota.reportProgress(OtaProgress.BurnFailed, 'flash write failed')
    await expect(ota.reportProgress(101)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await expect(ota.reportProgress(-5)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await waitFor(() => rig.progress[0], 2000, 'step -4')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(rig.progress).toEqual([{ step: '-4', desc: 'flash write failed' }])
  })
})
