/**
 * Port of the C SDK's `ota_example_mqtt.c` (basic API, IOT_OTA_*): an MQTT connection, an OTA
 * session, a loop that waits for an upgrade push, fetches the image into `ota.bin` chunk by chunk
 * with IOT_OTA_FetchYield, reports progress, and checks the MD5 (IOT_OTAG_CHECK_FIRMWARE).
 *
 * Runs against an embedded emulator that pushes firmware 1.1.0 (`npx tsx --conditions=development
 * examples/ota-basic.ts`).
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Connection } from '@linkkit/core'
import { Emulator } from '@linkkit/emulator'
import { OtaProgress, OtaSession } from '@linkkit/sdk'

const productKey = 'a1OtaBasic01'
const deviceName = 'basic-0001'
const deviceSecret = randomBytes(16).toString('hex')
const trace = (text: string) => console.log(`[ota-basic] ${text}`)
const OTA_BUF_LEN = 5000

const dir = mkdtempSync(join(tmpdir(), 'linkkit-ota-basic-'))
await using emu = await Emulator.start({ devices: [{ productKey, deviceName, deviceSecret }] })
try {
  // IOT_MQTT_Construct
  await using mqtt = new Connection({ productKey, deviceName, deviceSecret, brokerUrl: emu.mqttUrl })
  await mqtt.connect()
  // IOT_OTA_Init: subscribes the upgrade topics
  await using ota = new OtaSession(mqtt, { allowHttp: true })
  await ota.ready
  // IOT_OTA_ReportVersion
  await ota.reportVersion('1.0.0')

  // The operator pushes firmware 1.1.0 to this device (the console's "定向升级").
  const image = randomBytes(300 * 1024)
  const firmware = await emu.ota.addFirmware({ productKey, version: '1.1.0', data: image })
  await emu.ota.push({ productKey, deviceName, firmware })

  trace('wait ota upgrade command....')
  while (!ota.isFetching()) await new Promise((resolve) => setTimeout(resolve, 50))

  const fp = await open(join(dir, 'ota.bin'), 'w+')
  const buf = new Uint8Array(OTA_BUF_LEN)
  let percent = 0
  do {
    let len = 0
    try {
      len = await ota.fetchYield(buf, 1000)
    } catch (error) {
      await ota.reportProgress(OtaProgress.FetchFailed)
      trace(`ota fetch fail: ${(error as Error).message}`)
    }
    if (len > 0) await fp.write(buf, 0, len)
    const last = percent
    percent = Math.floor((ota.fetchedSize * 100) / ota.fileSize)
    if (percent - last > 0) await ota.reportProgress(percent, 'hello')
  } while (!ota.isFetchFinish())
  await fp.close()

  const valid = ota.checkFirmware()
  trace(valid ? 'The firmware is valid' : 'The firmware is invalid')
  trace(`version ${ota.version}, ${ota.fetchedSize} of ${ota.fileSize} bytes, md5 ${ota.md5}`)
  if (!valid) process.exitCode = 1
} finally {
  rmSync(dir, { recursive: true, force: true })
}
