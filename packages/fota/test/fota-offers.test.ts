import { Connection, Topics } from '@linkkit/core'
import { FirmwareServer } from '@linkkit/emulator'
import { SpyPersistence } from '@linkkit/testing/persistence'
import { describe, expect, it } from 'vitest'
import { FotaClient } from '../src/fota-client.js'
import type { FotaProgress } from '../src/perform.js'
import { MemoryPersistence } from '../src/persistence/memory.js'
import type { FirmwareOffer } from '../src/types.js'
import { firmwareBytes, offerData } from './helpers/firmware.js'
import { RawBroker } from './helpers/raw-broker.js'
import { device, type Rig, startRig, steps, waitFor } from './helpers/rig.js'

function collectOffers(fota: FotaClient): FirmwareOffer[] {
  const offers: FirmwareOffer[] = []
  fota.on('fota', (offer) => offers.push(offer))
  return offers
}

function deepNesting(depth: number): string {
  return `{"code":"1000","message":"success","id":1,"data":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`
}

describe('FotaClient: malformed offers are refused, reported, and nothing downloads', () => {
  async function setup() {
    const rig = await startRig()
    const file = rig.files.addFile({ data: firmwareBytes(10_000, 41) })
    const good = offerData(file)
    const spy = new SpyPersistence(new MemoryPersistence())
    const fota = new FotaClient(rig.connection, {
      version: '1.0.0',
      persistence: spy,
      allowHttp: true,
      autoDownload: true,
    })
    await fota.start()
    return { rig, file, good, spy, fota }
  }

  const cases: Array<[string, (good: Record<string, unknown>) => string | Uint8Array]> = [
    ['bad JSON', () => '{"code":"1000","data":{"version":"2.0.0",'],
    ['missing url', (good) => push({ ...good, url: undefined })],
    ['signMethod "CRC32"', (good) => push({ ...good, signMethod: 'CRC32' })],
    ['size "abc"', (good) => push({ ...good, size: 'abc' })],
    ['10 MB of junk', () => new Uint8Array(10 * 1024 * 1024).fill(0x7b)],
    ['deep nesting', () => deepNesting(100_000)],
  ]

  it.each(cases)('%s → error ERR_OFFER_INVALID, step -1 with a reason, no request', async (_name, make) => {
    const { rig, file, good, spy, fota } = await setup()
    await using _rig = rig
    await using _fota = fota
    const offers = collectOffers(fota)
    const errors: Array<{ code: string; message: string }> = []
    fota.on('error', (error) => errors.push(error))

    await rig.pushRaw(make(good))
    await waitFor(() => errors.length > 0, 3000, 'the error event')
    expect(errors[0]?.code).toBe('ERR_OFFER_INVALID')
    await waitFor(() => rig.progress.length > 0, 2000, 'a progress report')
    expect(rig.progress).toHaveLength(1)
    expect(rig.progress[0]?.step).toBe('-1')
    expect(rig.progress[0]?.desc.length).toBeGreaterThan(0)
    expect(offers).toEqual([])
    expect(spy.calls).toEqual([])
    expect(rig.httpRequests).toEqual([])

    // The device is still online and still takes a good offer.
    expect(rig.connection.connected).toBe(true)
    expect(rig.emu.device(rig.identity.productKey, rig.identity.deviceName)?.online).toBe(true)
    await rig.push(good)
    await waitFor(() => spy.stops.length > 0, 3000, 'the good offer downloaded')
    expect(spy.stops).toEqual([{ ok: true }])
    expect(rig.files.stats(file.id).requests).toBe(1)
  })
})

function push(data: Record<string, unknown>): string {
  return JSON.stringify({ code: '1000', data, id: 1, message: 'success' })
}

describe('FotaClient: modules', () => {
  async function setup(rig: Rig) {
    const main = new MemoryPersistence()
    const mcu = new SpyPersistence(new MemoryPersistence())
    const ble = new MemoryPersistence()
    const fota = new FotaClient(rig.connection, {
      version: '1.0.0',
      persistence: main,
      allowHttp: true,
      modules: { MCU: { version: '0.1.0', persistence: mcu }, BLE: { version: '3.0', persistence: ble } },
    })
    await fota.start()
    return { fota, main, mcu, ble }
  }

  it('a module offer goes to that module’s persistence and reports with the module name', async () => {
    await using rig = await startRig()
    const { fota, main, mcu } = await setup(rig)
    await using _ = fota
    const offers = collectOffers(fota)
    const data = firmwareBytes(50_000, 42)
    const file = rig.files.addFile({ data })
    await rig.push(offerData(file, { module: 'MCU', version: '0.2.0' }))
    const offer = await waitFor(() => offers[0], 2000, 'the fota event')
    expect(offer.module).toBe('MCU')

    const result = await fota.download(offer)
    expect(result.module).toBe('MCU')
    expect(mcu.starts).toEqual([expect.objectContaining({ module: 'MCU', version: '0.2.0' })])
    expect(main.image).toBeUndefined()
    await waitFor(() => steps(rig.progress).includes('100'), 2000, 'step 100')
    expect(rig.progress.every((p) => p.module === 'MCU')).toBe(true)
  })

  it('refuses a second download of the same module with ERR_OTA_BUSY; two modules download at once', async () => {
    await using rig = await startRig()
    const { fota, mcu, ble } = await setup(rig)
    await using _ = fota
    const mcuData = firmwareBytes(400_000, 43)
    const bleData = firmwareBytes(300_000, 44)
    const mcuFile = rig.files.addFile({ data: mcuData, name: 'mcu.bin' })
    const bleFile = rig.files.addFile({ data: bleData, name: 'ble.bin' })
    rig.files.faultsFor(mcuFile.id).throttle(2_000_000)
    rig.files.faultsFor(bleFile.id).throttle(2_000_000)
    const offers = collectOffers(fota)
    await rig.push(offerData(mcuFile, { module: 'MCU', version: '0.2.0' }))
    await rig.push(offerData(bleFile, { module: 'BLE', version: '3.1' }))
    await waitFor(() => offers.length === 2, 2000, 'two offers')
    const [mcuOffer, bleOffer] = offers as [FirmwareOffer, FirmwareOffer]

    const order: string[] = []
    fota.on('fota:progress', (p) => order.push(p.module ?? 'default'))
    const first = fota.download(mcuOffer)
    await expect(fota.download(mcuOffer)).rejects.toMatchObject({ code: 'ERR_OTA_BUSY' })
    const second = fota.download(bleOffer)
    const [a, b] = await Promise.all([first, second])
    // Side by side: BLE bytes arrived while MCU bytes were still coming in.
    expect(order.indexOf('BLE')).toBeLessThan(order.lastIndexOf('MCU'))
    expect(a.module).toBe('MCU')
    expect(b.module).toBe('BLE')
    expect(mcu.stops).toEqual([{ ok: true }])
    expect(Buffer.compare(ble.bytes() ?? new Uint8Array(), bleData)).toBe(0)
    expect(rig.files.stats(mcuFile.id).requests).toBe(1)
    // Once the module is free again it downloads again.
    await expect(fota.download(mcuOffer)).resolves.toMatchObject({ module: 'MCU' })
  })
})

describe('FotaClient: multi-file offers', () => {
  it('stores every file, names each to the persistence and reports progress across the total', async () => {
    await using rig = await startRig()
    const parts = [firmwareBytes(120_000, 45), firmwareBytes(80_000, 46), firmwareBytes(200_000, 47)]
    const files = parts.map((data, i) => rig.files.addFile({ data, name: `part${i}.bin` }))
    const memory = new MemoryPersistence()
    const stored: Array<Uint8Array | undefined> = []
    const spy = new SpyPersistence(memory)
    const fota = new FotaClient(rig.connection, { version: '1.0.0', persistence: spy, allowHttp: true })
    await using _ = fota
    await fota.start()
    const offers = collectOffers(fota)
    const local: FotaProgress[] = []
    fota.on('fota:progress', (p) => local.push(p))
    await rig.push({
      version: '5.0.0',
      signMethod: 'SHA256',
      files: files.map((f) => ({
        fileName: f.name,
        fileSize: f.size,
        fileUrl: f.url,
        fileSign: f.sha256,
        fileMd5: f.md5,
      })),
    })
    const offer = await waitFor(() => offers[0], 2000, 'the fota event')
    expect(offer.files?.map((f) => f.name)).toEqual(['part0.bin', 'part1.bin', 'part2.bin'])
    // What the adapter shows as committed after each file's stop.
    const stopOne = spy.stop.bind(spy)
    spy.stop = async (outcome) => {
      await stopOne(outcome)
      stored.push(memory.bytes())
    }

    const result = await fota.download(offer)
    const total = parts.reduce((n, p) => n + p.length, 0)
    expect(result.bytes).toBe(total)
    expect(result.files.map((f) => f.name)).toEqual(['part0.bin', 'part1.bin', 'part2.bin'])
    expect(spy.starts.map((image) => [image.name, image.size, image.digest])).toEqual(
      files.map((f) => [f.name, f.size, f.sha256]),
    )
    expect(spy.stops).toEqual([{ ok: true }, { ok: true }, { ok: true }])
    // The offer is committed whole once its last file is verified, each file under its own name.
    expect(stored.map((bytes) => bytes?.length)).toEqual([undefined, undefined, parts[0]?.length])
    expect(parts.map((p, i) => Buffer.compare(memory.bytes(`part${i}.bin`) ?? new Uint8Array(), p))).toEqual([
      0, 0, 0,
    ])
    for (const [i, p] of local.entries()) {
      expect(p.total).toBe(total)
      if (i > 0) expect(p.bytes).toBeGreaterThan(local[i - 1]?.bytes ?? 0)
    }
    expect(local.at(-1)).toMatchObject({ bytes: total, percent: 100, file: 'part2.bin' })
    expect(local.find((p) => p.file === 'part1.bin')?.bytes).toBeGreaterThan(parts[0]?.length ?? 0)
    await waitFor(() => steps(rig.progress).includes('100'), 2000, 'step 100')
    const seen = steps(rig.progress)
    expect(seen[0]).toBe('0')
    expect(seen.filter((s) => s === '100')).toHaveLength(1)
    expect(seen.at(-1)).toBe('100')
  })
})

describe('FotaClient.request()', () => {
  // The emulator answers thing.ota.firmware.get itself (data: {} without a job), so a reply with
  // an offer comes from a test-side cloud on a bare broker, where nothing else answers first.
  it('publishes thing.ota.firmware.get and resolves with the offer of the reply', async () => {
    await using broker = await RawBroker.start()
    await using connection = await new Connection({ ...device, brokerUrl: broker.url }).connect()
    await using fota = new FotaClient(connection, { version: '1.0.0', allowHttp: true })
    await fota.start()
    const offers = collectOffers(fota)
    const getTopic = Topics.otaFirmwareGet(connection)
    const data = {
      size: 1000,
      version: '0.3.0',
      url: 'http://127.0.0.1:9/ota/mcu.bin',
      md5: 'ab'.repeat(16),
      sign: 'ab'.repeat(16),
      signMethod: 'Md5',
      module: 'MCU',
    }

    const pending = fota.request('MCU')
    const sent = await waitFor(() => broker.published.find((p) => p.topic === getTopic), 2000, 'the query')
    const request = JSON.parse(sent.payload.toString()) as { id: string }
    expect(request).toMatchObject({ method: 'thing.ota.firmware.get', params: { module: 'MCU' } })
    await broker.publish(Topics.reply(getTopic), JSON.stringify({ id: request.id, code: 200, data }))

    const offer = await pending
    expect(offer).toMatchObject({ version: '0.3.0', module: 'MCU', url: data.url, digest: data.md5 })
    expect(offers).toEqual([offer])
  })

  it('a throwing fota listener does not fail request(); with autoDownload the offer downloads', async () => {
    await using broker = await RawBroker.start()
    await using files = await FirmwareServer.start()
    const data = firmwareBytes(20_000, 49)
    const file = files.addFile({ data })
    await using connection = await new Connection({ ...device, brokerUrl: broker.url }).connect()
    const persistence = new MemoryPersistence()
    await using fota = new FotaClient(connection, {
      version: '1.0.0',
      persistence,
      allowHttp: true,
      autoDownload: true,
    })
    await fota.start()
    fota.on('fota', () => {
      throw new Error('application bug')
    })
    const getTopic = Topics.otaFirmwareGet(connection)

    const pending = fota.request()
    const sent = await waitFor(() => broker.published.find((p) => p.topic === getTopic), 2000, 'the query')
    const { id } = JSON.parse(sent.payload.toString()) as { id: string }
    await broker.publish(Topics.reply(getTopic), JSON.stringify({ id, code: 200, data: offerData(file) }))

    await expect(pending).resolves.toMatchObject({ version: '2.0.0', url: file.url })
    await waitFor(() => persistence.image, 3000, 'the automatic download')
    expect(Buffer.compare(persistence.bytes() ?? new Uint8Array(), data)).toBe(0)
  })

  it('resolves undefined when the reply carries data: {} (the emulator with no job for the device)', async () => {
    await using rig = await startRig()
    const getTopic = Topics.otaFirmwareGet(rig.identity)
    const requests: Array<Record<string, unknown>> = []
    rig.emu.onUplink(getTopic, ({ payload }) => {
      requests.push(JSON.parse(payload.toString()) as Record<string, unknown>)
    })
    await using fota = new FotaClient(rig.connection, { version: '1.0.0', allowHttp: true })
    await fota.start()
    const offers = collectOffers(fota)

    await expect(fota.request()).resolves.toBeUndefined()
    expect(requests).toEqual([expect.objectContaining({ method: 'thing.ota.firmware.get', params: {} })])
    expect(offers).toEqual([])
  })
})
