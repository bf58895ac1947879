import { createHash } from 'node:crypto'
import { type AddressInfo, connect, createServer, type Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { Emulator } from '../src/index.js'
import { DEVICE, DN, PK } from './helpers.js'
import { device, image, nextJson, UPGRADE } from './ota-helpers.js'

const CONFIG_PUSH = `/sys/${PK}/${DN}/thing/config/push`

/**
 * The host the C SDK 3.x HTTP client dials for a URL: everything between `://` and the next `/`
 * (infra_httpc.c `_utils_parse_url`), with the port it then uses: 80 for http, whatever the URL says.
 */
function sdk3Host(url: string): string {
  const rest = url.slice(url.indexOf('://') + 3)
  return rest.slice(0, rest.indexOf('/'))
}

interface Fetched {
  statusLine: string
  /** The header block as sent, status line and trailing CRLFCRLF included. */
  head: string
  headers: string[]
  body: Buffer
}

/**
 * GETs `url` on a raw socket with the request the C SDK 3.x sends (ota_fetch.c `ofc_Init`): its
 * Host is the URL's host as written, no `Connection: close`, so the body ends by Content-Length.
 */
function sdk3Get(url: string, offset = 0): Promise<Fetched> {
  const { hostname, port, pathname, search } = new URL(url)
  const request =
    `GET ${pathname}${search} HTTP/1.1\r\nHost: ${sdk3Host(url)}\r\n` +
    'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n' +
    `Accept-Encoding: gzip, deflate\r\nRange: bytes=${offset}-\r\n\r\n`
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port || 80), hostname.replace(/^\[|\]$/g, ''))
    let received = Buffer.alloc(0)
    socket.on('error', reject)
    socket.on('close', () => reject(new Error(`closed after ${received.length} bytes`)))
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      const end = received.indexOf('\r\n\r\n')
      if (end < 0) return
      const head = received.subarray(0, end + 4).toString('latin1')
      const length = Number(/\r\nContent-Length: (\d+)\r\n/.exec(head)?.[1] ?? Number.NaN)
      if (received.length < end + 4 + length) return
      const [statusLine = '', ...headers] = head.slice(0, -4).split('\r\n')
      socket.removeAllListeners('close')
      socket.destroy()
      resolve({ statusLine, head, headers, body: received.subarray(end + 4) })
    })
    socket.write(request)
  })
}

/** A plain TCP port forward on loopback (port 0), like `iptables REDIRECT 80 → 8080` in front of the emulator. */
async function portForward(): Promise<{ origin: string; to(port: number): void } & AsyncDisposable> {
  let target = 0
  const sockets = new Set<Socket>()
  const server = createServer((inbound) => {
    const outbound = connect(target, '127.0.0.1')
    for (const socket of [inbound, outbound]) {
      sockets.add(socket)
      socket.once('close', () => sockets.delete(socket))
      socket.on('error', () => {
        inbound.destroy()
        outbound.destroy()
      })
    }
    inbound.pipe(outbound).pipe(inbound)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    to: (port) => {
      target = port
    },
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

const md5 = (data: Uint8Array) => createHash('md5').update(data).digest('hex')
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex')

describe('firmwareBaseUrl', () => {
  it('starts firmware and config file URLs, without the default port the C SDK 3.x cannot follow', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE], firmwareBaseUrl: 'http://firmware.test:80/' })
    expect(emu.firmwareBaseUrl).toBe('http://firmware.test')
    expect(emu.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const fw = await emu.ota.addFirmware({ productKey: PK, version: '2.0.0', data: image(1000) })
    expect(fw.url).toMatch(/^http:\/\/firmware\.test\/ota\/[^/]+\/firmware\.bin\?Expires=\d+&Signature=/)
    expect(sdk3Host(fw.url)).toBe('firmware.test')
    const offer = emu.setConfig(PK, { configId: 'cfg-1', data: image(100) })
    expect(offer.url).toMatch(/^http:\/\/firmware\.test\/config\//)
    expect(sdk3Host(offer.url)).toBe('firmware.test')
  })

  it('keeps a path and a non-default port, and leaves out https:443', async () => {
    await using proxied = await Emulator.start({ firmwareBaseUrl: 'http://gw.test:8080/emulator/' })
    const a = await proxied.ota.addFirmware({ productKey: PK, version: '1', data: image(10) })
    expect(a.url.startsWith('http://gw.test:8080/emulator/ota/')).toBe(true)
    await using tls = await Emulator.start({ firmwareBaseUrl: 'https://oss.test:443' })
    const b = await tls.ota.addFirmware({ productKey: PK, version: '1', data: image(10) })
    expect(b.url.startsWith('https://oss.test/ota/')).toBe(true)
  })

  it('defaults to the HTTP server origin', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    expect(emu.firmwareBaseUrl).toBe(emu.httpUrl)
    const fw = await emu.ota.addFirmware({ productKey: PK, version: '2.0.0', data: image(10) })
    expect(fw.url.startsWith(`${emu.httpUrl}/ota/`)).toBe(true)
  })

  it('refuses an unusable base URL at start with ERR_INVALID_OPTIONS', async () => {
    for (const firmwareBaseUrl of [
      '127.0.0.1',
      'ftp://files.test',
      'http://u:p@h.test',
      'http://h.test/?x=1',
    ]) {
      await expect(Emulator.start({ firmwareBaseUrl })).rejects.toMatchObject({
        code: 'ERR_INVALID_OPTIONS',
        details: { name: 'firmwareBaseUrl' },
      })
    }
  })

  it('hands the device that URL in the upgrade push and the config push', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE], firmwareBaseUrl: 'http://ota.test' })
    const c = await device(emu)
    await c.subscribeAsync([UPGRADE, CONFIG_PUSH], { qos: 1 })
    const fw = await emu.ota.addFirmware({ productKey: PK, version: '2.0.0', data: image(5000) })
    const pushed = nextJson(c, UPGRADE)
    await emu.ota.push({ productKey: PK, deviceName: DN, firmware: fw })
    const data = (await pushed).data as Record<string, unknown>
    expect(data.url).toBe(fw.url)
    expect(String(data.url).startsWith('http://ota.test/ota/')).toBe(true)

    const offer = emu.setConfig(PK, { configId: 'cfg-1', data: image(300) })
    const configPushed = nextJson(c, CONFIG_PUSH)
    await emu.pushConfig(PK, DN, { awaitReply: false })
    expect(((await configPushed).params as Record<string, unknown>).url).toBe(offer.url)
  })

  it('serves the downloads when the base URL leads to the emulator through a port forward', async () => {
    await using forward = await portForward()
    await using emu = await Emulator.start({ devices: [DEVICE], firmwareBaseUrl: `${forward.origin}/` })
    forward.to(Number(new URL(emu.httpUrl).port))
    expect(emu.firmwareBaseUrl).toBe(forward.origin)
    const c = await device(emu)
    await c.subscribeAsync(UPGRADE, { qos: 1 })
    const data = image(200_000, 13)
    const fw = await emu.ota.addFirmware({ productKey: PK, version: '2.0.0', data })
    const pushed = nextJson(c, UPGRADE)
    await emu.ota.push({ productKey: PK, deviceName: DN, firmware: fw })
    const offer = (await pushed).data as { url: string; md5: string; size: number }
    expect(offer.url.startsWith(`${forward.origin}/ota/`)).toBe(true)

    const whole = await sdk3Get(offer.url)
    expect(whole.statusLine).toBe('HTTP/1.1 206 Partial Content')
    expect(whole.body.length).toBe(offer.size)
    expect(md5(whole.body)).toBe(offer.md5)
    const resumed = await sdk3Get(offer.url, 150_000)
    expect(md5(Buffer.concat([whole.body.subarray(0, 150_000), resumed.body]))).toBe(offer.md5)
    expect(emu.ota.stats(fw)).toMatchObject({ requests: 2, statuses: [206, 206] })

    const config = image(3000, 5)
    const configOffer = emu.setConfig(PK, { configId: 'cfg-1', data: config })
    const fetched = await sdk3Get(configOffer.url)
    expect(sha256(fetched.body)).toBe(configOffer.sign)
    expect(sha256(fetched.body)).toBe(sha256(config))
  })
})

describe('the file server as the C SDK 3.x reads it (raw socket)', () => {
  it.each(['firmware', 'config'] as const)(
    'answers %s requests with HTTP/1.1, exact canonical headers in under 1024 bytes, never chunked',
    async (kind) => {
      await using emu = await Emulator.start({ devices: [DEVICE] })
      const data = image(70_000, 3)
      const url =
        kind === 'firmware'
          ? (await emu.ota.addFirmware({ productKey: PK, version: '2.0.0', data })).url
          : emu.setConfig(PK, { configId: 'cfg-1', data }).url
      const whole = await sdk3Get(url)
      expect(whole.statusLine).toBe('HTTP/1.1 206 Partial Content')
      expect(whole.headers).toContain('Content-Length: 70000')
      expect(whole.headers).toContain('Content-Range: bytes 0-69999/70000')
      // 3.x reads the head into a 1024-byte buffer and takes the first "Content-Length" it finds.
      expect(whole.head.length).toBeLessThan(1024)
      expect(whole.head.indexOf('Content-Length')).toBe(whole.head.indexOf('\r\nContent-Length: ') + 2)
      expect(whole.headers.every((h) => /^[A-Z][A-Za-z]*(-[A-Z][A-Za-z]*)*: \S/.test(h))).toBe(true)
      expect(whole.headers.some((h) => /^(transfer|content)-encoding:/i.test(h))).toBe(false)
      expect(whole.body.equals(Buffer.from(data))).toBe(true)

      const tail = await sdk3Get(url, 69_000)
      expect(tail.statusLine).toBe('HTTP/1.1 206 Partial Content')
      expect(tail.headers).toContain('Content-Length: 1000')
      expect(tail.headers).toContain('Content-Range: bytes 69000-69999/70000')
      expect(tail.body.equals(Buffer.from(data.subarray(69_000)))).toBe(true)
    },
  )
})
