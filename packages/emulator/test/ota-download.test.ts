import { get as httpGet } from 'node:http'
import { describe, expect, it } from 'vitest'
import { Emulator } from '../src/index.js'
import { DEVICE, PK } from './helpers.js'
import { image } from './ota-helpers.js'

interface Answer {
  status: number
  headers: string[]
  body: Buffer
  error: string | undefined
}

/** GETs a URL with node:http and keeps the raw header names (to check their case). */
function fetchRaw(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve) => {
    const req = httpGet(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      const done = (error?: string) =>
        resolve({ status: res.statusCode ?? 0, headers: res.rawHeaders, body: Buffer.concat(chunks), error })
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => done())
      res.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message))
      res.on('aborted', () => done('aborted'))
    })
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ status: 0, headers: [], body: Buffer.alloc(0), error: error.code ?? error.message }),
    )
  })
}

function header(answer: Answer, name: string): string | undefined {
  const at = answer.headers.indexOf(name)
  return at < 0 ? undefined : answer.headers[at + 1]
}

describe('firmware download from the emulator', () => {
  it('serves exactly the image bytes with Content-Length at the pushed URL, and ranges', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const data = image(70_000)
    const fw = await emu.ota.addFirmware({ productKey: PK, version: '2.0.0', data })
    const full = await fetchRaw(fw.url)
    expect(full.status).toBe(200)
    expect(header(full, 'Content-Length')).toBe('70000')
    expect(header(full, 'Transfer-Encoding')).toBeUndefined()
    expect(full.body.equals(Buffer.from(data))).toBe(true)
    const tail = await fetchRaw(fw.url, { Range: 'bytes=69990-' })
    expect(tail.status).toBe(206)
    expect(header(tail, 'Content-Range')).toBe('bytes 69990-69999/70000')
    expect(tail.body.equals(Buffer.from(data.subarray(69_990)))).toBe(true)
    expect(emu.ota.stats(fw)).toMatchObject({ requests: 2, statuses: [200, 206] })
  })

  it('serves each file of a multi-file firmware at its own URL', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const a = image(1000)
    const b = image(2000, 11)
    const fw = await emu.ota.addFirmware({
      productKey: PK,
      version: '3.0.0',
      files: [
        { name: 'a.bin', data: a },
        { name: 'b.bin', data: b },
      ],
    })
    const [fa, fb] = await Promise.all(fw.files.map((file) => fetchRaw(file.url)))
    expect(fa?.body.equals(Buffer.from(a))).toBe(true)
    expect(fb?.body.equals(Buffer.from(b))).toBe(true)
  })

  it('reaches the firmware server faults through emu.faults.firmware, globally and per firmware', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const data = image(20_000)
    const fw = await emu.ota.addFirmware({ productKey: PK, version: '2.0.0', data })
    const other = await emu.ota.addFirmware({ productKey: PK, version: '2.0.1', data: image(100) })

    emu.faults.firmware.status(503)
    expect((await fetchRaw(fw.url)).status).toBe(503)
    expect((await fetchRaw(fw.url)).status).toBe(200)

    emu.faults.firmware.for(fw).corruptByte(10)
    const corrupted = await fetchRaw(fw.url)
    expect(corrupted.body.length).toBe(20_000)
    expect(corrupted.body[10]).toBe((data[10] ?? 0) ^ 0xff)
    expect(corrupted.body.subarray(11).equals(Buffer.from(data.subarray(11)))).toBe(true)

    emu.faults.firmware.for(fw).truncate(5000)
    const cut = await fetchRaw(fw.url)
    expect(cut.body.length).toBe(5000)
    expect((await fetchRaw(other.url)).body.length).toBe(100)
    expect(emu.ota.stats(fw).requests).toBe(4)
  })
})
