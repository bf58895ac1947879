import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import { type AddressInfo, connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { parseRange } from '../src/firmware-range.js'
import { FirmwareServer } from '../src/firmware-server.js'

function bytes(size: number): Uint8Array {
  const data = new Uint8Array(size)
  for (let i = 0; i < size; i++) data[i] = (i * 31 + (i >> 8)) & 0xff
  return data
}

interface RawAnswer {
  statusLine: string
  /** Header lines exactly as sent. */
  headers: string[]
  body: Buffer
  /** How the connection ended: `end` (FIN), `error` (e.g. ECONNRESET) or `timeout` (still open). */
  ending: 'end' | 'error' | 'timeout'
  errorCode: string | undefined
}

/** Speaks HTTP/1.1 on a raw socket, the way the C SDKs do, and reports exactly what came back. */
function raw(
  url: string,
  headers: Record<string, string> = {},
  method = 'GET',
  waitMs = 2000,
): Promise<RawAnswer> {
  const { hostname, port, pathname, search } = new URL(url)
  const lines = [`${method} ${pathname}${search} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Connection: close']
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`)
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname)
    const received: Buffer[] = []
    const finish = (ending: RawAnswer['ending'], errorCode?: string) => {
      clearTimeout(timer)
      socket.destroy()
      const all = Buffer.concat(received)
      const split = all.indexOf('\r\n\r\n')
      const head = all.subarray(0, split < 0 ? all.length : split).toString('latin1')
      const [statusLine = '', ...headerLines] = head.split('\r\n')
      const body = split < 0 ? Buffer.alloc(0) : all.subarray(split + 4)
      resolve({ statusLine, headers: headerLines, body, ending, errorCode })
    }
    const timer = setTimeout(() => finish('timeout'), waitMs)
    socket.on('data', (chunk) => received.push(chunk))
    socket.on('end', () => finish('end'))
    socket.on('error', (error: NodeJS.ErrnoException) => finish('error', error.code))
    socket.write(`${lines.join('\r\n')}\r\n\r\n`)
  })
}

async function withFile(size = 100_000, name?: string) {
  const server = await FirmwareServer.start()
  const data = bytes(size)
  const file = server.addFile(name === undefined ? { data } : { data, name })
  return Object.assign(server, { data, file, fileStats: () => server.stats(file.id) })
}

describe('FirmwareServer serving', () => {
  it('answers with an exact, canonical-case Content-Length, never chunked or compressed', async () => {
    await using server = await withFile(100_000)
    const answer = await raw(server.file.url, { 'Accept-Encoding': 'gzip, deflate' })
    expect(answer.statusLine).toBe('HTTP/1.1 200 OK')
    expect(answer.headers).toContain('Content-Length: 100000')
    expect(answer.headers).toContain('Accept-Ranges: bytes')
    expect(answer.headers.some((h) => /^(transfer|content)-encoding:/i.test(h))).toBe(false)
    expect(answer.headers.every((h) => /^[A-Za-z-]+: /.test(h))).toBe(true)
    expect(Buffer.compare(answer.body, server.data)).toBe(0)
  })

  it('returns a short URL, lowercase digests, and ignores signed query strings', async () => {
    await using server = await withFile(5000, 'mcu-2.0.0.bin')
    const { file } = server
    expect(file.url).toBe(`${server.url}/ota/${file.id}/mcu-2.0.0.bin`)
    expect(file.url.length).toBeLessThan(80)
    expect(file.md5).toBe(createHash('md5').update(server.data).digest('hex'))
    expect(file.sha256).toBe(createHash('sha256').update(server.data).digest('hex'))
    const answer = await raw(`${file.url}?Expires=1700000000&Signature=abc%2Bdef`)
    expect(answer.statusLine).toBe('HTTP/1.1 200 OK')
    expect(answer.body).toHaveLength(5000)
  })

  it('answers ranges with 206, the exact slice and Content-Range', async () => {
    await using server = await withFile(100_000)
    const cases: [string, number, number][] = [
      ['bytes=10-19', 10, 19],
      ['bytes=99990-', 99_990, 99_999],
      ['bytes=0-', 0, 99_999],
      ['bytes=-5', 99_995, 99_999],
      ['bytes=50000-999999', 50_000, 99_999],
    ]
    for (const [range, start, end] of cases) {
      const answer = await raw(server.file.url, { Range: range })
      expect(answer.statusLine).toBe('HTTP/1.1 206 Partial Content')
      expect(answer.headers).toContain(`Content-Range: bytes ${start}-${end}/100000`)
      expect(answer.headers).toContain(`Content-Length: ${end - start + 1}`)
      expect(Buffer.compare(answer.body, server.data.subarray(start, end + 1))).toBe(0)
    }
    expect(server.fileStats().ranges).toEqual(cases.map(([range]) => range))
  })

  it('answers 416 to an unsatisfiable range, 404 to an unknown file, 405 to POST', async () => {
    await using server = await withFile(1000)
    const unsatisfiable = await raw(server.file.url, { Range: 'bytes=1000-' })
    expect(unsatisfiable.statusLine).toBe('HTTP/1.1 416 Range Not Satisfiable')
    expect(unsatisfiable.headers).toContain('Content-Range: bytes */1000')
    expect((await raw(`${server.url}/ota/nope/firmware.bin`)).statusLine).toBe('HTTP/1.1 404 Not Found')
    expect((await raw(`${server.url}/elsewhere`)).statusLine).toBe('HTTP/1.1 404 Not Found')
    expect((await raw(server.file.url, {}, 'POST')).statusLine).toBe('HTTP/1.1 405 Method Not Allowed')
    expect(server.fileStats().statuses).toEqual([416, 405])
  })

  it('answers HEAD with the GET headers and no body', async () => {
    await using server = await withFile(4096)
    const answer = await raw(server.file.url, { Range: 'bytes=100-' }, 'HEAD')
    expect(answer.statusLine).toBe('HTTP/1.1 206 Partial Content')
    expect(answer.headers).toContain('Content-Length: 3996')
    expect(answer.body).toHaveLength(0)
    expect(server.fileStats()).toMatchObject({ requests: 1, bytesSent: 0 })
  })

  it('ignores ranges it does not understand and serves the whole file', () => {
    expect(parseRange('bytes=5-2', 10)).toEqual({ kind: 'full' })
    expect(parseRange('bytes=0-1,4-5', 10)).toEqual({ kind: 'full' })
    expect(parseRange('items=0-1', 10)).toEqual({ kind: 'full' })
    expect(parseRange('bytes=-0', 10)).toEqual({ kind: 'unsatisfiable' })
    expect(parseRange('bytes=-20', 10)).toEqual({ kind: 'partial', start: 0, end: 9 })
  })

  it('mounts on a shared server through handle(), leaving other paths alone', async () => {
    const firmware = new FirmwareServer({ pathPrefix: '/fw/' })
    const shared = createServer((req, res) => {
      if (!firmware.handle(req, res)) res.writeHead(418, { 'Content-Length': '0' }).end()
    })
    await new Promise<void>((resolve) => shared.listen(0, '127.0.0.1', resolve))
    firmware.baseUrl = `http://127.0.0.1:${(shared.address() as AddressInfo).port}`
    const file = firmware.addFile({ data: bytes(300) })
    expect(file.url).toContain('/fw/')
    expect((await raw(file.url)).body).toHaveLength(300)
    expect((await raw(`${firmware.baseUrl}/other`)).statusLine).toBe("HTTP/1.1 418 I'm a Teapot")
    await firmware.close()
    shared.closeAllConnections()
    await new Promise<void>((resolve) => shared.close(() => resolve()))
  })

  it('close() destroys open responses and frees the port; it is idempotent', async () => {
    const server = await withFile(200_000)
    server.faults.stallAfter(1000)
    const pending = raw(server.file.url, {}, 'GET', 5000)
    await new Promise((resolve) => setTimeout(resolve, 100))
    const port = Number(new URL(server.url).port)
    await Promise.all([server.close(), server.close()])
    const answer = await pending
    expect(answer.ending).not.toBe('timeout')
    expect(answer.body.length).toBe(1000)
    const refused = await raw(`http://127.0.0.1:${port}/`)
    expect(refused.errorCode).toBe('ECONNREFUSED')
  })
})
