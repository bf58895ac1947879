import type { AddressInfo } from 'node:net'
import { createServer, type Socket } from 'node:net'
import { isLinkkitError } from '@linkkit/core'
import { describe, expect, it } from 'vitest'
import { BodyRing } from '../../src/download/body-ring.js'
import { downloadFirmware } from '../../src/download/index.js'
import { MAX_HEAD_BYTES, type ResponseHead, ResponseReader } from '../../src/download/response-reader.js'
import { countingSink, digest, image, quick, rejection } from '../download-helpers.js'

interface Read {
  head: ResponseHead | undefined
  body: Buffer
  ended: boolean
}

/** Feeds `pieces` through a ResponseReader, then the end of the connection when `eof`. */
function read(pieces: Uint8Array[], eof = false): Read {
  const out: Read = { head: undefined, body: Buffer.alloc(0), ended: false }
  const bodies: Buffer[] = []
  const reader = new ResponseReader({
    head: (head) => {
      out.head = head
    },
    // A copy, as the ring makes: the reader hands out views of the caller's buffer.
    body: (bytes) => bodies.push(Buffer.from(bytes)),
    end: () => {
      out.ended = true
    },
  })
  for (const piece of pieces) reader.feed(piece)
  if (eof) reader.eof()
  out.body = Buffer.concat(bodies)
  return out
}

function failure(pieces: Uint8Array[], eof = false): Error {
  try {
    read(pieces, eof)
  } catch (error) {
    return error as Error
  }
  throw new Error('expected the reader to throw')
}

const bytes = (text: string) => Buffer.from(text, 'latin1')

const chunkedResponse = bytes(
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n' +
    '5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\nGARBAGE AFTER',
)

describe('ResponseReader (the firmware GET’s own HTTP/1.1 parser)', () => {
  it('reads a Content-Length response and ignores bytes after its body', () => {
    const out = read([
      bytes('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Dup: a\r\nx-dup: b\r\n\r\nhello, and more'),
    ])
    expect(out.head?.statusCode).toBe(200)
    expect(out.head?.headers['x-dup']).toBe('a, b')
    expect(out.body.toString()).toBe('hello')
    expect(out.ended).toBe(true)
  })

  it('gives the same result for a chunked response split at every byte boundary, and byte by byte', () => {
    const whole = read([chunkedResponse])
    expect(whole.body.toString()).toBe('hello world')
    expect(whole.ended).toBe(true)
    for (let cut = 1; cut < chunkedResponse.length; cut += 1) {
      const out = read([chunkedResponse.subarray(0, cut), chunkedResponse.subarray(cut)])
      expect(out.body.toString(), `cut at ${cut}`).toBe('hello world')
      expect(out.ended, `cut at ${cut}`).toBe(true)
    }
    const single = read([...chunkedResponse].map((byte) => Uint8Array.of(byte)))
    expect(single.body.toString()).toBe('hello world')
  })

  it('splits a Content-Length response at every byte boundary, 1xx answers skipped', () => {
    const response = bytes(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 206 Partial Content\r\nContent-Length: 4\r\n\r\nabcd',
    )
    for (let cut = 0; cut <= response.length; cut += 1) {
      const out = read([response.subarray(0, cut), response.subarray(cut)])
      expect(out.head?.statusCode).toBe(206)
      expect(out.body.toString(), `cut at ${cut}`).toBe('abcd')
    }
  })

  it('ends a body framed by the connection at its end, and a short Content-Length body too', () => {
    expect(read([bytes('HTTP/1.0 200 OK\r\n\r\nabc')], true).body.toString()).toBe('abc')
    const short = read([bytes('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc')], true)
    expect(short.body.toString()).toBe('abc')
    expect(short.ended).toBe(true)
  })

  it.each([
    ['a missing version', 'HTTP 200 OK'],
    ['HTTP/2 in text', 'HTTP/2.0 200 OK'],
    ['a two-digit status', 'HTTP/1.1 20 OK'],
    ['a status over 599', 'HTTP/1.1 600 Nope'],
    ['a status with letters', 'HTTP/1.1 2OO OK'],
    ['a NUL in the reason', 'HTTP/1.1 200 O\u0000K'],
    ['leading junk', 'xHTTP/1.1 200 OK'],
    ['a protocol switch', 'HTTP/1.1 101 Switching Protocols'],
  ])('refuses a malformed status line: %s', (_what, line) => {
    const error = failure([bytes(`${line}\r\nContent-Length: 0\r\n\r\n`)])
    expect((error as { code?: string }).code).toBe('ERR_HTTP_MALFORMED')
  })

  it.each([
    ['a folded header', 'X-A: 1\r\n continued'],
    ['a header without a colon', 'X-A 1'],
    ['a space before the colon', 'X-A : 1'],
    ['a bare LF', 'X-A: 1\nX-B: 2'],
    ['a control character in a value', 'X-A: 1\u0001'],
    ['both framings', 'Content-Length: 5\r\nTransfer-Encoding: chunked'],
    ['two different lengths', 'Content-Length: 5\r\nContent-Length: 6'],
    ['a negative length', 'Content-Length: -1'],
    ['a length with a sign', 'Content-Length: +5'],
    ['a huge length', 'Content-Length: 99999999999999999999'],
    ['another transfer coding', 'Transfer-Encoding: gzip, chunked'],
  ])('refuses malformed headers: %s', (_what, headers) => {
    const error = failure([bytes(`HTTP/1.1 200 OK\r\n${headers}\r\n\r\nhello`)])
    expect((error as { code?: string }).code).toBe('ERR_HTTP_MALFORMED')
  })

  it('refuses a header flood (count) and a head over 16 KiB, however it is split', () => {
    const flood = `HTTP/1.1 200 OK\r\n${'X-A: 1\r\n'.repeat(101)}\r\n`
    expect(failure([bytes(flood)]).message).toMatch(/more than 100 headers/)
    const endless = bytes(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(MAX_HEAD_BYTES)}`)
    expect(failure([endless]).message).toMatch(/head over 16384 bytes/)
    const pieces = Array.from({ length: 40 }, () => bytes('X-Big: '.padEnd(1000, 'a')))
    expect(failure([bytes('HTTP/1.1 200 OK\r\n'), ...pieces]).message).toMatch(/head over/)
  })

  it.each([
    ['a non-hex size', 'zz\r\nhello\r\n0\r\n\r\n'],
    ['an empty size', '\r\nhello\r\n0\r\n\r\n'],
    ['a negative size', '-5\r\nhello\r\n0\r\n\r\n'],
    ['a size over 12 hex digits', `${'f'.repeat(13)}\r\n`],
    ['a 0x prefix', '0x5\r\nhello\r\n0\r\n\r\n'],
    ['chunk data longer than its size', '3\r\nhello\r\n0\r\n\r\n'],
    ['a bare LF after a size', '5\nhello\r\n0\r\n\r\n'],
    ['an endless size line', '5'.repeat(2000)],
    ['an oversized trailer', `0\r\n${'X-T: a\r\n'.repeat(3000)}\r\n`],
  ])('refuses a bad chunked body: %s', (_what, body) => {
    const error = failure([bytes(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${body}`)])
    expect((error as { code?: string }).code).toBe('ERR_HTTP_MALFORMED')
  })

  it('fails a response cut inside its head or its chunked body, like a reset', () => {
    expect((failure([bytes('HTTP/1.1 200 OK\r\nContent-')], true) as { code?: string }).code).toBe(
      'ECONNRESET',
    )
    const cut = failure([bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel')], true)
    expect((cut as { code?: string }).code).toBe('ECONNRESET')
  })
})

describe('BodyRing', () => {
  it('lends what was written in order, in pieces of at most maxLoanBytes, wraps around, and spills in order when full', () => {
    const ring = new BodyRing(10, 4)
    const data = image(1000, 3)
    const out: number[] = []
    let at = 0
    for (const size of [3, 7, 1, 9, 13, 2, 20, 0, 5]) {
      const before = ring.free
      ring.write(data.subarray(at, at + size))
      at += size
      // Only what did not fit is spilled: the ring is full after a write that spilled.
      if (size > before) expect(ring.free).toBe(0)
      for (let piece = ring.take(); piece !== undefined; piece = ring.take()) {
        if (piece.buffer !== data.buffer && piece.length > 4) expect(size).toBeGreaterThan(before)
        out.push(...piece)
      }
    }
    expect(Buffer.from(out).equals(Buffer.from(data.subarray(0, at)))).toBe(true)
    expect(ring.empty).toBe(true)
    expect(ring.free).toBe(10)
  })
})

/** A raw TCP server that writes `answer` to each connection once it has read the request head. */
async function rawTcp(answer: (socket: Socket) => void) {
  const heads: string[] = []
  const server = createServer((socket) => {
    let head = ''
    socket.on('error', () => {})
    socket.on('data', (data) => {
      if (head.includes('\r\n\r\n')) return
      head += data.toString('latin1')
      if (head.includes('\r\n\r\n')) {
        heads.push(head)
        answer(socket)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  let connections = 0
  server.on('connection', () => {
    connections += 1
  })
  return {
    url: `http://127.0.0.1:${port}/fw.bin?token=secret`,
    connections: () => connections,
    heads: () => heads,
    async [Symbol.asyncDispose]() {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

describe('the firmware GET against hostile servers (raw TCP)', () => {
  const data = image(200_000, 41)
  const source = (url: string) => ({
    url,
    size: data.length,
    signMethod: 'Md5' as const,
    digest: digest(data, 'Md5'),
  })
  const options = { ...quick, retry: { limit: 2, baseDelayMs: 1, maxDelayMs: 2 } }

  it('retries a malformed status line, then fails with ERR_DOWNLOAD_FAILED naming it, never the token', async () => {
    await using server = await rawTcp((socket) => socket.end('HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n'))
    const error = await rejection(() => downloadFirmware(source(server.url), countingSink().sink, options))
    expect(isLinkkitError(error, 'ERR_DOWNLOAD_FAILED')).toBe(true)
    expect(String((error as Error).cause)).toMatch(/bad status line/)
    expect(JSON.stringify(error)).not.toContain('secret')
    expect(server.connections()).toBe(3)
  })

  it('cuts a header flood sent without end at 16 KiB', async () => {
    await using server = await rawTcp((socket) => {
      socket.write('HTTP/1.1 200 OK\r\n')
      const flood = () => {
        while (!socket.destroyed && socket.write('X-Flood: aaaaaaaaaaaaaaaaaaaaaaaa\r\n'));
        if (!socket.destroyed) socket.once('drain', flood)
      }
      flood()
    })
    const error = await rejection(() => downloadFirmware(source(server.url), countingSink().sink, options))
    expect(isLinkkitError(error, 'ERR_DOWNLOAD_FAILED')).toBe(true)
    expect(String((error as Error).cause)).toMatch(/more than 100 headers|head over/)
  })

  it('takes only Content-Length bytes of a longer body: the download completes with the right digest', async () => {
    await using server = await rawTcp((socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${data.length}\r\n\r\n`)
      socket.end(Buffer.concat([data, Buffer.alloc(50_000, 1)]))
    })
    const sunk = countingSink()
    const result = await downloadFirmware(source(server.url), sunk.sink, options)
    expect(result.bytes).toBe(data.length)
    expect(sunk.bytes).toBe(data.length)
  })

  it('completes a chunked body written a few bytes at a time, with odd chunk sizes', async () => {
    await using server = await rawTcp((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')
      let at = 0
      const parts: Buffer[] = []
      for (let size = 1; at < data.length; size = (size * 7 + 3) % 70_000 || 1) {
        const piece = data.subarray(at, at + size)
        parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), Buffer.from(piece), Buffer.from('\r\n'))
        at += piece.length
      }
      parts.push(Buffer.from('0\r\n\r\n'))
      const wire = Buffer.concat(parts)
      for (let i = 0; i < wire.length; i += 9_999) socket.write(wire.subarray(i, i + 9_999))
      socket.end()
    })
    const result = await downloadFirmware(source(server.url), countingSink().sink, options)
    expect(result.bytes).toBe(data.length)
  })

  it('stops an endless chunked body once it passes the offer size: ERR_SIZE_MISMATCH', async () => {
    await using server = await rawTcp((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')
      const chunk = Buffer.concat([Buffer.from('10000\r\n'), Buffer.alloc(0x10000, 2), Buffer.from('\r\n')])
      const more = () => {
        while (!socket.destroyed && socket.write(chunk));
        if (!socket.destroyed) socket.once('drain', more)
      }
      more()
    })
    const sunk = countingSink()
    const error = await rejection(() => downloadFirmware(source(server.url), sunk.sink, options))
    expect(isLinkkitError(error, 'ERR_SIZE_MISMATCH')).toBe(true)
    expect(sunk.bytes).toBeLessThanOrEqual(data.length)
  })

  it('sends one well-formed request: the path and query, Host, Range, Basic authorization from user info', async () => {
    await using server = await rawTcp((socket) =>
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'),
    )
    const url = new URL(server.url)
    url.username = 'dev%20ice'
    url.password = 'p:w'
    const error = await rejection(() => downloadFirmware(source(url.href), countingSink().sink, options))
    expect(isLinkkitError(error, 'ERR_DOWNLOAD_HTTP_STATUS')).toBe(true)
    const lines = (server.heads()[0] as string).split('\r\n')
    expect(lines[0]).toBe('GET /fw.bin?token=secret HTTP/1.1')
    expect(lines).toContain(`Host: ${url.host}`)
    expect(lines).toContain('Range: bytes=0-')
    expect(lines).toContain(`Authorization: Basic ${Buffer.from('dev ice:p:w').toString('base64')}`)
    expect(lines).toContain('Connection: close')
    expect(JSON.stringify(error)).not.toContain('secret')
  })
})
