import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Emulator } from '../../src/index.js'
import { DEVICE, PK } from '../helpers.js'

/**
 * Finding 3 of issue 10: the control API had no credentials, and `POST /control/firmware
 * {"path"}` served any file the process could read (/etc/shadow, the devices file with every
 * secret); /dev/zero grew the read to gigabytes even after the client left, a FIFO hung it.
 */
let root = ''
let allowed = ''
let outside = ''
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'linkkit-control-attack-'))
  allowed = join(root, 'firmware')
  outside = join(root, 'private')
  await mkdir(allowed)
  await mkdir(outside)
  await mkdir(join(allowed, 'subdir'))
  await writeFile(join(allowed, 'fw.bin'), Buffer.alloc(300, 7))
  await writeFile(join(outside, 'devices.json'), JSON.stringify({ devices: [DEVICE] }))
  await symlink(join(outside, 'devices.json'), join(allowed, 'devices-link.bin'))
  await symlink('/dev/zero', join(allowed, 'zero.bin'))
  await symlink(outside, join(allowed, 'private-dir'))
  execFileSync('mkfifo', [join(allowed, 'pipe.bin')])
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

interface Answer {
  status: number
  body: { error?: { code: string; message: string }; [key: string]: unknown }
  headers: Headers
}

/** A control call with a 5 s deadline: a read that hangs fails the test instead of stalling it. */
async function call(
  emu: Emulator,
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown } = {},
) {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  const token = options.token === undefined ? emu.controlToken : options.token
  if (token !== null && token !== undefined) headers.authorization = `Bearer ${token}`
  const res = await fetch(`${emu.httpUrl}/control/${path}`, {
    method,
    headers,
    signal: AbortSignal.timeout(5000),
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  })
  return { status: res.status, body: (await res.json()) as Answer['body'], headers: res.headers }
}

const byPath = (emu: Emulator, path: string, token?: string | null) =>
  call(emu, 'POST', 'firmware', { token, body: { productKey: PK, version: '9.9.9', path } })

describe('attack: the control API without credentials (issue 10, finding 3)', () => {
  it('answers 401 to a request without the token or with a wrong one, on every endpoint', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const token = emu.controlToken ?? ''
    expect(token).toMatch(/^[A-Za-z0-9_-]{32,}$/)
    const endpoints: Array<[string, string, unknown?]> = [
      ['GET', 'info'],
      ['GET', 'devices'],
      ['GET', `devices/${PK}/${DEVICE.deviceName}`],
      ['GET', 'jobs'],
      ['POST', 'kick', { productKey: PK, deviceName: DEVICE.deviceName }],
      ['POST', 'firmware', { productKey: PK, version: '1', path: '/etc/passwd' }],
      ['GET', 'no/such/endpoint'],
    ]
    for (const wrong of [null, '', 'x', `${token}x`, token.slice(0, -1), token.toUpperCase()]) {
      for (const [method, path, body] of endpoints) {
        const answer = await call(emu, method, path, { token: wrong, body })
        expect([method, path, answer.status, answer.body.error?.code]).toEqual([
          method,
          path,
          401,
          'ERR_CONTROL_UNAUTHORIZED',
        ])
        expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer /)
      }
    }
    expect(emu.device(PK, DEVICE.deviceName)?.connectCount).toBe(0)
    expect((await call(emu, 'GET', 'info')).status).toBe(200)
  })

  it('takes a token set by the operator, and refuses weak ones', async () => {
    const controlToken = 'operator-chosen-token-0001'
    await using emu = await Emulator.start({ controlToken })
    expect(emu.controlToken).toBe(controlToken)
    expect((await call(emu, 'GET', 'info', { token: controlToken })).status).toBe(200)
    for (const weak of ['short', 'has a space in it 0001', `${'x'.repeat(300)}`]) {
      await expect(Emulator.start({ controlToken: weak })).rejects.toMatchObject({
        code: 'ERR_INVALID_OPTIONS',
      })
    }
  })

  it('runs without a token only on loopback: controlToken false on another address is refused', async () => {
    await using open = await Emulator.start({ controlToken: false })
    expect(open.controlToken).toBeUndefined()
    expect((await call(open, 'GET', 'info', { token: null })).status).toBe(200)
    for (const host of ['0.0.0.0', '::', '192.0.2.10']) {
      await expect(Emulator.start({ host, controlToken: false })).rejects.toMatchObject({
        code: 'ERR_INVALID_OPTIONS',
        message: expect.stringContaining('loopback'),
      })
    }
  })
})

describe('attack: reading files through POST /control/firmware {path} (issue 10, finding 3)', () => {
  it('refuses every path while no directory is allowed', async () => {
    await using emu = await Emulator.start()
    const answer = await byPath(emu, join(allowed, 'fw.bin'))
    expect([answer.status, answer.body.error?.code]).toEqual([403, 'ERR_PATH_NOT_ALLOWED'])
    expect(answer.body.error?.message).toMatch(/allowedFirmwareDir/)
  })

  it('refuses files outside the allowed directory, traversal, symlinks out, devices, FIFOs and directories, at once and without reading', async () => {
    await using emu = await Emulator.start({ allowedFirmwareDir: allowed })
    const before = process.memoryUsage().arrayBuffers
    const outsideMessage = 'path is outside the allowed firmware directory'
    const notFile = 'path is not a regular file'
    const cases: Array<[string, string]> = [
      ['/etc/shadow', outsideMessage],
      ['/etc/passwd', outsideMessage],
      [join(outside, 'devices.json'), outsideMessage],
      [`${allowed}/../private/devices.json`, outsideMessage],
      [`${allowed}/subdir/../../private/devices.json`, outsideMessage],
      [join(allowed, 'devices-link.bin'), outsideMessage],
      [join(allowed, 'private-dir', 'devices.json'), outsideMessage],
      ['/dev/zero', outsideMessage],
      [join(allowed, 'zero.bin'), outsideMessage],
      [join(allowed, 'pipe.bin'), notFile],
      [join(allowed, 'subdir'), notFile],
      [allowed, outsideMessage],
    ]
    for (const [path, message] of cases) {
      const answer = await byPath(emu, path)
      expect([path, answer.status, answer.body.error]).toEqual([
        path,
        403,
        { code: 'ERR_PATH_NOT_ALLOWED', message },
      ])
    }
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024)
    expect(emu.ota.firmware('fw-1')).toBeUndefined()

    // The allowed file itself is served, through a path with a harmless `..` too.
    const ok = await byPath(emu, `${allowed}/subdir/../fw.bin`)
    expect([ok.status, ok.body.size]).toEqual([201, 300])
  })

  it('stops reading when the client goes away mid-read', async () => {
    const big = join(allowed, 'big.bin')
    const size = 128 * 1024 * 1024
    await writeFile(big, '')
    await truncate(big, size) // sparse: no disk space, but every byte must be read
    const lines: Array<{ msg: string; bytesRead?: number; size?: number }> = []
    let request: ReturnType<typeof httpRequest> | undefined
    let stopped: (line: { bytesRead?: number }) => void = () => {}
    const stoppedLine = new Promise<{ bytesRead?: number }>((resolve) => {
      stopped = resolve
    })
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const text of String(chunk).trim().split('\n')) {
          const line = JSON.parse(text) as { msg: string; bytesRead?: number }
          lines.push(line)
          // The client leaves as soon as the emulator starts reading the file.
          if (line.msg === 'reading firmware file') request?.destroy()
          if (line.msg === 'firmware file read stopped: the request was aborted') stopped(line)
        }
        done()
      },
    })
    try {
      await using emu = await Emulator.start({
        allowedFirmwareDir: allowed,
        logger: pino({ level: 'debug' }, sink),
      })
      const body = JSON.stringify({ productKey: PK, version: '1', path: big })
      request = httpRequest(`${emu.httpUrl}/control/firmware`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${emu.controlToken}`,
        },
      })
      request.on('error', () => {})
      request.end(body)
      const line = await stoppedLine
      expect(line.bytesRead).toBeLessThan(size)
    } finally {
      await rm(big, { force: true })
    }
  })
})
