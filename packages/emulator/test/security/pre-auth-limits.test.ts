import { once } from 'node:events'
import { connect as netConnect } from 'node:net'
import got from 'got'
import { describe, expect, it } from 'vitest'
import { Emulator, REGISTER_PATH } from '../../src/index.js'
import { connect, credentials, DEVICE } from '../helpers.js'

/**
 * Finding 4 of issue 10: the broker buffered a CONNECT of up to 256 MiB before authenticating it,
 * and `POST /auth/register/device` answered a 100 KB body with 500.
 */
const MiB = 1024 * 1024

describe('attack: oversized input before authentication (issue 10, finding 4)', () => {
  it('closes a connection whose CONNECT announces 256 MiB, after a bounded read', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const { port } = new URL(emu.mqttUrl)
    const socket = netConnect(Number(port), '127.0.0.1')
    // The reset is the expected outcome: `events.once` would reject with it, so plain listeners.
    socket.on('error', () => {})
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    await once(socket, 'connect')
    const before = process.memoryUsage().arrayBuffers
    // CONNECT with remaining length 268,435,455 (the largest MQTT allows), then zeros.
    socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]))
    const chunk = Buffer.alloc(256 * 1024)
    const giveUpAt = 128 * MiB
    let written = 0
    while (!socket.destroyed && written < giveUpAt) {
      written += chunk.length
      if (!socket.write(chunk))
        await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), closed])
    }
    const grown = process.memoryUsage().arrayBuffers - before
    socket.destroy()
    await closed
    // What the kernel's socket buffers took is all that went out; the emulator held a small part.
    expect(written).toBeLessThan(32 * MiB)
    expect(grown).toBeLessThan(16 * MiB)

    // The broker still serves devices.
    expect((await connect(emu.mqttUrl, credentials())).connected).toBe(true)
  })

  it('answers a 100 KB registration body with 413, with or without Content-Length', async () => {
    await using emu = await Emulator.start()
    const form = `productKey=a1B2c3D4e5F&deviceName=${'x'.repeat(100 * 1024)}`
    const declared = await got.post(`${emu.httpUrl}${REGISTER_PATH}`, {
      body: form,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      throwHttpErrors: false,
      retry: { limit: 0 },
    })
    expect([declared.statusCode, JSON.parse(declared.body)]).toEqual([
      413,
      { code: 413, message: 'the body exceeds 65536 bytes' },
    ])
    const chunked = await got.post(`${emu.httpUrl}${REGISTER_PATH}`, {
      body: (async function* () {
        for (let i = 0; i < 10; i++) yield Buffer.from(form.slice(i * 10_250, (i + 1) * 10_250))
      })(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      throwHttpErrors: false,
      retry: { limit: 0 },
    })
    expect(chunked.statusCode).toBe(413)
  })
})
