// Child process for the unheard-error test: a device whose application forgot its `error` listener
// takes an upgrade that fails (autoDownload of a plain-http URL without allowHttp). The parent reads
// this process's real stderr. Prints `job <status> step <n>` once the platform saw the failure.
import { Emulator } from '@linkkit/emulator'
import { linkkit, MemoryPersistence } from '../../../src/index.js'

const lamp = { productKey: 'a1Unheard01', deviceName: 'lamp-unheard', deviceSecret: 'unheard-secret-0001' }
const emu = await Emulator.start({ devices: [lamp] })
const device = await linkkit
  .open({
    ...lamp,
    brokerUrl: emu.mqttUrl,
    firmware: { version: '1.0.0', persistence: new MemoryPersistence(), autoDownload: true },
  })
  .connect()
const firmware = await emu.ota.addFirmware({
  productKey: lamp.productKey,
  version: '1.1.0',
  data: new Uint8Array(1000),
})
const job = await emu.ota.push({ productKey: lamp.productKey, deviceName: lamp.deviceName, firmware })
const failed = await emu.ota.waitForJob(job.id, 'failed')
process.stdout.write(`job ${failed.status} step ${failed.failure?.step}\n`)
await device.close()
await emu.close()
