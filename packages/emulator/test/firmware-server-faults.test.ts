import { request } from 'node:http'
import { describe, expect, it } from 'vitest'
import { FirmwareServer } from '../src/firmware-server.js'

function bytes(size: number): Uint8Array {
  const data = new Uint8Array(size)
  for (let i = 0; i < size; i++) data[i] = (i * 7 + 3) & 0xff
  return data
}

interface Fetched {
  status: number
  contentLength: number | undefined
  body: Buffer
  /** Set when the body did not complete: the socket error code or 'aborted'. */
  failure: string | undefined
  ms: number
}

/** A GET with node:http that reports what arrived even when the server breaks the body off. */
function fetch(url: string, range?: string, waitMs = 3000): Promise<Fetched> {
  const started = Date.now()
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let status = 0
    let contentLength: number | undefined
    const done = (failure?: string) => {
      clearTimeout(timer)
      req.destroy()
      resolve({ status, contentLength, body: Buffer.concat(chunks), failure, ms: Date.now() - started })
    }
    const timer = setTimeout(() => done('timeout'), waitMs)
    const req = request(
      url,
      { headers: range === undefined ? {} : { Range: range }, agent: false },
      (res) => {
        status = res.statusCode ?? 0
        const length = res.headers['content-length']
        contentLength = length === undefined ? undefined : Number(length)
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => done(res.complete ? undefined : 'aborted'))
        res.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? 'aborted'))
      },
    )
    req.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? 'error'))
    req.end()
  })
}

async function withFile(size: number) {
  const server = await FirmwareServer.start()
  const data = bytes(size)
  const file = server.addFile({ data })
  return Object.assign(server, { data, file, fileFaults: server.faultsFor(file.id) })
}

describe('FirmwareServer faults', () => {
  it('resetAfter breaks the body off with a reset, `times` responses only', async () => {
    await using server = await withFile(500_000)
    server.fileFaults.resetAfter(100_000, 2)
    for (let i = 0; i < 2; i++) {
      const broken = await fetch(server.file.url)
      expect(broken.contentLength).toBe(500_000)
      expect(broken.failure).toBeDefined()
      expect(broken.body.length).toBeLessThanOrEqual(100_000)
    }
    const whole = await fetch(server.file.url)
    expect(whole.failure).toBeUndefined()
    expect(Buffer.compare(whole.body, server.data)).toBe(0)
  })

  it('counts reset bytes per response, so a resumed range is cut again from its own start', async () => {
    await using server = await withFile(300_000)
    server.faults.resetAfter(1000, Number.POSITIVE_INFINITY)
    const first = await fetch(server.file.url, 'bytes=50000-')
    expect(first.failure).toBeDefined()
    expect(first.body.length).toBeLessThanOrEqual(1000)
    expect(Buffer.compare(first.body, server.data.subarray(50_000, 50_000 + first.body.length))).toBe(0)
    expect((await fetch(server.file.url, 'bytes=0-499')).failure).toBeUndefined()
  })

  it('truncate announces the full length but closes after exactly that many bytes', async () => {
    await using server = await withFile(400_000)
    server.fileFaults.truncate(123_456)
    const cut = await fetch(server.file.url)
    expect(cut.contentLength).toBe(400_000)
    expect(cut.failure).toBeDefined()
    expect(cut.body.length).toBe(123_456)
    expect(Buffer.compare(cut.body, server.data.subarray(0, 123_456))).toBe(0)
    expect(server.stats(server.file.id).bytesSent).toBe(123_456)
  })

  it('stallAfter keeps the connection open and silent; with ms it then resumes', async () => {
    await using server = await withFile(200_000)
    server.fileFaults.stallAfter(10_000).stallAfter(20_000, 300)
    const stalled = await fetch(server.file.url, undefined, 400)
    expect(stalled.failure).toBe('timeout')
    expect(stalled.body.length).toBe(10_000)
    const slow = await fetch(server.file.url)
    expect(slow.failure).toBeUndefined()
    expect(slow.body.length).toBe(200_000)
    expect(slow.ms).toBeGreaterThanOrEqual(280)
  })

  it('corruptByte flips one byte of what is sent, never the stored image', async () => {
    await using server = await withFile(200_000)
    server.fileFaults.corruptByte(150_000)
    const corrupted = await fetch(server.file.url, 'bytes=100000-')
    const expected = Buffer.from(server.data.subarray(100_000))
    const differing = [...corrupted.body.keys()].filter((i) => corrupted.body[i] !== expected[i])
    expect(differing).toEqual([50_000])
    expect(corrupted.body[50_000]).toBe((expected[50_000] ?? 0) ^ 0xff)
    const clean = await fetch(server.file.url)
    expect(Buffer.compare(clean.body, server.data)).toBe(0)
  })

  it('status answers the next `times` requests with the code, then serves again', async () => {
    await using server = await withFile(1000)
    server.fileFaults.status(503, 2)
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await fetch(server.file.url)).status)
    expect(statuses).toEqual([503, 503, 200])
    expect(server.stats(server.file.id)).toMatchObject({ requests: 3, statuses: [503, 503, 200] })
  })

  it('throttle paces the body', async () => {
    await using server = await withFile(100_000)
    server.faults.throttle(250_000)
    const slow = await fetch(server.file.url)
    expect(slow.body.length).toBe(100_000)
    expect(slow.ms).toBeGreaterThanOrEqual(330)
  })

  it('extraBytes serves a longer or shorter file with headers that agree', async () => {
    await using server = await withFile(10_000)
    server.fileFaults.extraBytes(100)
    const long = await fetch(server.file.url)
    expect(long.contentLength).toBe(10_100)
    expect(Buffer.compare(long.body.subarray(0, 10_000), server.data)).toBe(0)
    expect([...long.body.subarray(10_000)].every((b) => b === 0)).toBe(true)
    const tail = await fetch(server.file.url, 'bytes=10050-')
    expect(tail.status).toBe(206)
    expect(tail.body.length).toBe(50)
    server.fileFaults.extraBytes(-100)
    const short = await fetch(server.file.url)
    expect(short.contentLength).toBe(9900)
    expect(Buffer.compare(short.body, server.data.subarray(0, 9900))).toBe(0)
    expect((await fetch(server.file.url, 'bytes=9950-')).status).toBe(416)
  })

  it('global faults hit every file, per-file faults only theirs, clear() removes them', async () => {
    await using server = await withFile(1000)
    const other = server.addFile({ data: bytes(1000), name: 'other.bin' })
    server.fileFaults.status(500, Number.POSITIVE_INFINITY)
    expect((await fetch(other.url)).status).toBe(200)
    expect((await fetch(server.file.url)).status).toBe(500)
    server.faults.status(502, Number.POSITIVE_INFINITY)
    expect((await fetch(other.url)).status).toBe(502)
    server.fileFaults.clear()
    server.faults.clear()
    expect((await fetch(server.file.url)).status).toBe(200)
    expect((await fetch(other.url)).status).toBe(200)
  })

  it('rejects fault arguments that make no sense', async () => {
    await using server = await withFile(10)
    expect(() => server.faults.resetAfter(-1)).toThrow(RangeError)
    expect(() => server.faults.status(99)).toThrow(RangeError)
    expect(() => server.faults.throttle(0)).toThrow(RangeError)
    expect(() => server.faults.truncate(10, 0)).toThrow(RangeError)
  })
})
