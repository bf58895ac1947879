import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { isLinkkitError, type LinkkitError } from '@linkkit/core'
import { TLS_CERT, TLS_KEY } from '@linkkit/testing/tls'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { downloadFirmware } from '../src/download/index.js'
import { collect, countingSink, digest, image, quick, rejection, serve } from './download-helpers.js'

const SECRET = 's3cr3t-Signature'

/** A loopback server (http, or https with the test certificate) answering with `listener`; counts requests. */
async function redirector(listener: RequestListener, tls = false) {
  const server: Server = tls ? createHttpsServer({ cert: TLS_CERT, key: TLS_KEY }) : createHttpServer()
  let requests = 0
  server.on('request', (req, res) => {
    requests += 1
    listener(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests: () => requests,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** The error and its causes as one JSON text, messages and stacks included. */
function errorText(error: unknown): string {
  const out: unknown[] = []
  for (let e = error; e instanceof Error; e = e.cause) out.push({ ...e, message: e.message, stack: e.stack })
  return JSON.stringify(out)
}

describe('downloadFirmware follows redirects', () => {
  for (const status of [301, 302]) {
    it(`a ${status} to another loopback server delivers the image; no query string reaches errors or logs`, async () => {
      const data = image(300_000, 61)
      await using target = await serve(data)
      await using front = await redirector((_req, res) => {
        res
          .writeHead(status, { location: `${target.file.url}?token=${SECRET}-2`, 'content-length': '0' })
          .end()
      })
      const lines: string[] = []
      const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) })
      const source = {
        url: `${front.origin}/signed/fw.bin?Expires=1&Signature=${SECRET}`,
        size: data.length,
        signMethod: 'Md5' as const,
        digest: target.file.md5,
      }
      const { bytes } = await collect(source, { ...quick, logger })
      expect(Buffer.compare(bytes, data)).toBe(0)
      expect(front.requests()).toBe(1)
      expect(target.fileStats().requests).toBe(1)
      expect(lines.length).toBeGreaterThan(0)
      expect(lines.join('')).not.toContain(SECRET)
    })
  }

  it('a relative Location on the same server is followed', async () => {
    const data = image(50_000, 62)
    await using front = await redirector((req, res) => {
      if (req.url?.startsWith('/old/')) {
        res.writeHead(307, { location: '/new/fw.bin', 'content-length': '0' }).end()
        return
      }
      res.writeHead(200, { 'content-length': String(data.length) }).end(Buffer.from(data))
    })
    const source = {
      url: `${front.origin}/old/fw.bin`,
      size: data.length,
      signMethod: 'Md5' as const,
      digest: digest(data, 'Md5'),
    }
    const { bytes } = await collect(source, quick)
    expect(Buffer.compare(bytes, data)).toBe(0)
    expect(front.requests()).toBe(2)
  })
})

describe('downloadFirmware refuses unsafe redirects, with no byte written', () => {
  it('https → http is refused even with allowHttp: ERR_HTTP_NOT_ALLOWED, the http server never asked', async () => {
    await using plain = await redirector((_req, res) => {
      res.writeHead(200, { 'content-length': '3' }).end('abc')
    })
    await using secure = await redirector((_req, res) => {
      res.writeHead(302, { location: `${plain.origin}/fw.bin?token=${SECRET}`, 'content-length': '0' }).end()
    }, true)
    for (const allowHttp of [true, false]) {
      const sunk = countingSink()
      const error = await rejection(() =>
        downloadFirmware(
          {
            url: `${secure.origin}/fw.bin?Signature=${SECRET}`,
            size: 3,
            signMethod: 'Md5',
            digest: 'ab'.repeat(16),
          },
          sunk.sink,
          { ...quick, allowHttp, tls: { ca: TLS_CERT } },
        ),
      )
      expect(isLinkkitError(error, 'ERR_HTTP_NOT_ALLOWED')).toBe(true)
      expect((error as LinkkitError).message).toMatch(/redirected from https to plain http/)
      expect((error as LinkkitError).httpStatus).toBe(302)
      expect(errorText(error)).not.toContain(SECRET)
      expect(sunk.bytes).toBe(0)
    }
    // Refused without a retry: one request per download, none to the http server.
    expect(secure.requests()).toBe(2)
    expect(plain.requests()).toBe(0)
  })

  it('a redirect loop ends after 10 redirects, without retries: ERR_DOWNLOAD_HTTP_STATUS', async () => {
    await using loop = await redirector((req, res) => {
      res.writeHead(302, { location: `${req.url}&again=1`, 'content-length': '0' }).end()
    })
    const sunk = countingSink()
    const error = await rejection(() =>
      downloadFirmware(
        {
          url: `${loop.origin}/fw.bin?Signature=${SECRET}`,
          size: 10,
          signMethod: 'Md5',
          digest: 'ab'.repeat(16),
        },
        sunk.sink,
        quick,
      ),
    )
    expect(isLinkkitError(error, 'ERR_DOWNLOAD_HTTP_STATUS')).toBe(true)
    expect((error as LinkkitError).message).toMatch(/redirected more than 10 times/)
    expect((error as LinkkitError).httpStatus).toBe(302)
    expect(errorText(error)).not.toContain(SECRET)
    expect(loop.requests()).toBe(11)
    expect(sunk.bytes).toBe(0)
  })

  it('a redirect to another protocol is refused: ERR_DOWNLOAD_HTTP_STATUS', async () => {
    await using front = await redirector((_req, res) => {
      res.writeHead(301, { location: `ftp://127.0.0.1/fw.bin?token=${SECRET}`, 'content-length': '0' }).end()
    })
    const sunk = countingSink()
    const error = await rejection(() =>
      downloadFirmware(
        { url: `${front.origin}/fw.bin`, size: 10, signMethod: 'Md5', digest: 'ab'.repeat(16) },
        sunk.sink,
        quick,
      ),
    )
    expect(isLinkkitError(error, 'ERR_DOWNLOAD_HTTP_STATUS')).toBe(true)
    expect((error as LinkkitError).message).toMatch(
      /unsupported protocol \(ftp:\/\/127\.0\.0\.1\/fw\.bin\?\[redacted\]\)/,
    )
    expect(errorText(error)).not.toContain(SECRET)
    expect(front.requests()).toBe(1)
    expect(sunk.bytes).toBe(0)
  })
})
