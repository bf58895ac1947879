import { connect as netConnect } from 'node:net'
import got from 'got'
import { describe, expect, it } from 'vitest'
import { Emulator } from '../src/index.js'
import { closed, connect, credentials, DEVICE, DN, nextMessage, PK } from './helpers.js'

function tcpRefused(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = netConnect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(undefined)
    })
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code))
  })
}

describe('connection lifecycle', () => {
  it('kicks the older connection when the same device connects with another clientId', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const first = await connect(emu.mqttUrl, credentials())
    const firstClosed = closed(first)
    const second = await connect(emu.mqttUrl, credentials({ params: { _ss: '1', _v: 'sdk-c-4.1.0' } }))
    await firstClosed
    expect(second.connected).toBe(true)
    expect(emu.device(PK, DN)).toMatchObject({
      online: true,
      connectCount: 2,
      clientId: credentials({ params: { _ss: '1', _v: 'sdk-c-4.1.0' } }).clientId,
    })
    const message = nextMessage(second)
    await emu.publish(`/sys/${PK}/${DN}/thing/service/property/set`, '{}')
    expect((await message).topic).toBe(`/sys/${PK}/${DN}/thing/service/property/set`)
  })

  it('kicks the older connection when the same clientId connects again', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const events: string[] = []
    emu.on('device:online', () => events.push('online'))
    emu.on('device:offline', () => events.push('offline'))
    const first = await connect(emu.mqttUrl, credentials())
    const firstClosed = closed(first)
    const second = await connect(emu.mqttUrl, credentials())
    await firstClosed
    expect(second.connected).toBe(true)
    expect(emu.device(PK, DN)?.online).toBe(true)
    expect(events).toEqual(['online', 'offline', 'online'])
  })

  it('emu.kick closes the device connection and reports whether it was online', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    expect(emu.kick(PK, DN)).toBe(false)
    const c = await connect(emu.mqttUrl, credentials())
    const done = closed(c)
    expect(emu.faults.kick(PK, DN)).toBe(true)
    expect(emu.device(PK, DN)?.online).toBe(false)
    await done
    expect(emu.kick(PK, DN)).toBe(false)
  })

  it('disabling an online device disconnects it and refuses it afterwards', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const c = await connect(emu.mqttUrl, credentials())
    const done = closed(c)
    emu.setDisabled(PK, DN, true)
    await done
    expect(emu.device(PK, DN)).toMatchObject({ online: false, disabled: true })
    expect(() => emu.setDisabled(PK, 'nobody', true)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
  })

  it('close() disconnects clients, frees both ports and is idempotent', async () => {
    const emu = await Emulator.start({ devices: [DEVICE] })
    const c = await connect(emu.mqttUrl, credentials())
    const done = closed(c)
    const mqttPort = Number(new URL(emu.mqttUrl).port)
    const httpPort = Number(new URL(emu.httpUrl).port)
    await Promise.all([emu.close(), emu.close()])
    await done
    await emu.close()
    expect(await tcpRefused(mqttPort)).toBe('ECONNREFUSED')
    expect(await tcpRefused(httpPort)).toBe('ECONNREFUSED')
  })

  it('answers unknown HTTP routes with 404 and serves mounted routes by longest prefix', async () => {
    await using emu = await Emulator.start()
    emu.http.route('GET', '/files/', (_req, res) => void res.end('root'))
    const unmount = emu.http.route('*', '/files/bin', (_req, res) => void res.end('files'))
    expect((await got(`${emu.httpUrl}/files/bin/a.bin`)).body).toBe('files')
    unmount()
    expect((await got(`${emu.httpUrl}/files/bin/a.bin`)).body).toBe('root')
    expect((await got(`${emu.httpUrl}/filesfoo`, { throwHttpErrors: false })).statusCode).toBe(404)
    expect((await got.post(`${emu.httpUrl}/files/x`, { throwHttpErrors: false })).statusCode).toBe(404)
  })

  it('rejects invalid options with ERR_INVALID_OPTIONS', async () => {
    await expect(Emulator.start({ mqttPort: -1 })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTIONS' })
  })
})
