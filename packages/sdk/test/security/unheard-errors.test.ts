import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { Connection, Topics } from '@linkkit/core'
import { Emulator } from '@linkkit/emulator'
import { FotaClient, OtaSession } from '@linkkit/fota'
import { ThingClient } from '@linkkit/thing-model'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import {
  type FirmwareOffer,
  LINKKIT_WARNING,
  LISTENER_THREW,
  type LinkkitError,
  linkkit,
} from '../../src/index.js'
import { gateway, startEmulator, sub } from '../gateway-helpers.js'

// Finding 9 of issue 10: an `error` event nobody listened to vanished (eventemitter3 does not
// throw), a throwing listener was logged to a silent logger, and the logger is silent by default.
// Now an unheard error, and a listener that throws, reach stderr as a `LinkkitWarning` once per
// emitter and code (process.emitWarning), and the device keeps running.

const lamp = { productKey: 'a1Unheard02', deviceName: 'lamp-unheard-2', deviceSecret: 'unheard-secret-0002' }
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url))

type Warning = Error & { code?: string }

/** Collects the LinkkitWarnings this process emits while in use. */
function warnings() {
  const seen: Warning[] = []
  const listener = (warning: Warning) => {
    if (warning.name === LINKKIT_WARNING) seen.push(warning)
  }
  process.on('warning', listener)
  return {
    seen,
    /** Warnings whose message names `who`. */
    about: (who: string) => seen.filter((w) => w.message.startsWith(`${who}:`)),
    [Symbol.dispose]: () => process.off('warning', listener),
  }
}

/** process.emitWarning hands the warning to listeners on the next tick: one turn later, any is in. */
const flush = () => new Promise((resolve) => setImmediate(resolve))

async function deviceOn(emu: Emulator, extra: Parameters<typeof linkkit.open>[0] | object = {}) {
  return linkkit
    .open({ ...lamp, brokerUrl: emu.mqttUrl, firmware: { version: '1.0.0', allowHttp: true }, ...extra })
    .connect()
}

/** Counts the -1 reports the platform got: each follows the refused offer's `error` emission. */
function refusedOffers(emu: Emulator) {
  let count = 0
  emu.onUplink(Topics.otaProgress(lamp), ({ payload }) => {
    if (payload.toString().includes('"-1"')) count++
  })
  return () => count
}

const badPush = (emu: Emulator) => emu.publish(Topics.otaUpgrade(lamp), 'not json', { qos: 1 })

describe('errors nobody listens to still reach the user (issue 10, 9)', () => {
  it('a device without an error listener warns on stderr once per code, and keeps running', async () => {
    using w = warnings()
    await using emu = await Emulator.start({ devices: [lamp] })
    await using device = await deviceOn(emu)
    const refused = refusedOffers(emu)
    const who = `Device ${lamp.productKey}/${lamp.deviceName}`

    await badPush(emu)
    await expect.poll(() => w.about(who).length).toBe(1)
    expect(w.about(who)[0]).toMatchObject({ code: 'ERR_OFFER_INVALID' })
    expect(w.about(who)[0]?.message).toMatch(/unhandled 'error' event/)

    await badPush(emu)
    await expect.poll(refused).toBe(2)
    await flush()
    expect(w.about(who)).toHaveLength(1)

    // Another code is another warning (a malformed property set reaches the thing client).
    await emu.publish(Topics.sys(lamp, 'thing/service/property/set'), '{"id":"1","params":', { qos: 1 })
    await expect
      .poll(() => w.about(who).map((x) => x.code))
      .toEqual(['ERR_OFFER_INVALID', 'ERR_MALFORMED_PAYLOAD'])
    expect(device.connected).toBe(true)
  })

  it('an error listener on the device, or on device.fota, hears it and nothing is printed', async () => {
    using w = warnings()
    await using emu = await Emulator.start({ devices: [lamp] })
    await using device = await deviceOn(emu)
    const onDevice: LinkkitError[] = []
    device.on('error', (e) => onDevice.push(e))
    await badPush(emu)
    await expect.poll(() => onDevice.length).toBe(1)
    device.removeAllListeners('error')
    const onFota: LinkkitError[] = []
    device.fota.on('error', (e) => onFota.push(e))
    await emu.publish(Topics.otaUpgrade(lamp), '[1]', { qos: 1 })
    await expect.poll(() => onFota.length).toBe(1)
    await flush()
    expect(w.seen.filter((x) => x.message.includes(lamp.deviceName))).toEqual([])
  })

  it('a listener that throws is caught, logged and warned about once; the device keeps taking offers', async () => {
    using w = warnings()
    let logs = ''
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logs += String(chunk)
        done()
      },
    })
    await using emu = await Emulator.start({ devices: [lamp] })
    await using device = await deviceOn(emu, { logger: pino({ level: 'error' }, sink) })
    const offers: FirmwareOffer[] = []
    device.on('fota', (offer) => {
      offers.push(offer)
      throw new Error('listener bug')
    })
    const firmware = await emu.ota.addFirmware({
      productKey: lamp.productKey,
      version: '1.1.0',
      data: new Uint8Array(10),
    })
    await emu.ota.push({ productKey: lamp.productKey, deviceName: lamp.deviceName, firmware })
    await expect.poll(() => offers.length).toBe(1)
    await expect.poll(() => w.about(`Device ${lamp.productKey}/${lamp.deviceName}`).length).toBe(1)
    const [warning] = w.about(`Device ${lamp.productKey}/${lamp.deviceName}`)
    expect(warning).toMatchObject({ code: LISTENER_THREW })
    expect(warning?.message).toMatch(/a 'fota' listener threw: listener bug/)
    expect(logs).toMatch(/a listener threw/)
    await emu.ota.push({ productKey: lamp.productKey, deviceName: lamp.deviceName, firmware })
    await expect.poll(() => offers.length).toBe(2)
    await flush()
    expect(w.about(`Device ${lamp.productKey}/${lamp.deviceName}`)).toHaveLength(1)
  })

  it('each emitter used on its own warns under its own name: Connection, ThingClient, FotaClient, OtaSession', async () => {
    using w = warnings()
    await using emu = await Emulator.start({ devices: [lamp] })
    await using connection = await new Connection({ ...lamp, brokerUrl: emu.mqttUrl }).connect()
    await using thing = new ThingClient(connection)
    await thing.start()
    await using fota = new FotaClient(connection, { version: '1.0.0' })
    await fota.start()
    await using ota = new OtaSession(connection)
    await ota.ready
    // A route whose handler fails is reported by the connection itself.
    await connection.subscribe(Topics.sys(lamp, 'thing/service/+'), () => {
      throw new Error('handler failed')
    })
    await emu.publish(Topics.sys(lamp, 'thing/service/custom'), '{}', { qos: 1 })
    await emu.publish(Topics.sys(lamp, 'thing/service/property/set'), '{"id":"1","params":', { qos: 1 })
    await badPush(emu)
    await expect
      .poll(() => new Set(w.seen.map((x) => x.message.split(':')[0])))
      .toEqual(
        new Set([
          `Connection ${lamp.productKey}/${lamp.deviceName}`,
          'ThingClient',
          'FotaClient',
          'OtaSession',
        ]),
      )
  })

  it('a sub-device behind a gateway warns under its own name', async () => {
    using w = warnings()
    await using emu = await startEmulator(1)
    await using gw = await gateway(emu)
    const lampSub = gw.subdevices.open(sub(1))
    await lampSub.connect()
    await emu.publish(Topics.sys(sub(1), 'thing/service/property/set'), '{"id":"1","params":', { qos: 1 })
    await expect
      .poll(() => w.about(`SubDevice ${sub(1).productKey}/${sub(1).deviceName}`).map((x) => x.code))
      .toEqual(['ERR_MALFORMED_PAYLOAD'])
  })

  it('a failed upgrade with no listener shows on the real stderr of the process, which keeps running', async () => {
    const child = spawn(
      process.execPath,
      [
        '--conditions=development',
        '--import',
        'tsx',
        fileURLToPath(new URL('helpers/unheard-upgrade-child.ts', import.meta.url)),
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (text: Buffer) => {
      stdout += text.toString()
    })
    child.stderr.on('data', (text: Buffer) => {
      stderr += text.toString()
    })
    const [code] = (await once(child, 'exit')) as [number | null]
    expect(stdout).toBe('job failed step -2\n')
    expect(code).toBe(0)
    expect(stderr).toMatch(
      /\[ERR_HTTP_NOT_ALLOWED\] LinkkitWarning: Device a1Unheard01\/lamp-unheard: unhandled 'error' event: refused plain http firmware URL/,
    )
    // The signed URL's query string is not printed.
    expect(stderr).not.toMatch(/Signature=|Expires=/)
  }, 30_000)
})
