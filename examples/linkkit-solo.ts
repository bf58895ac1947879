/**
 * Port of the FOTA part of the C SDK's `linkkit_example_solo.c` (advanced API): open the master
 * device, register the FOTA callback (ITE_FOTA → the `fota` event), connect, and on an offer call
 * IOT_Linkkit_Query(ITM_MSG_QUERY_FOTA_DATA) — here `device.fota.download(offer)`, which streams the
 * image into the HAL persistence (a FilePersistence), verifies it and reports progress. The new
 * version is informed after the (simulated) reboot, which completes the upgrade job.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Emulator } from '@linkkit/emulator'
import { FilePersistence, type FirmwareOffer, linkkit } from '@linkkit/sdk'

const productKey = 'a1LinkkitSolo'
const deviceName = 'solo-0001'
const deviceSecret = randomBytes(16).toString('hex')
const log = (text: string) => console.log(`[linkkit-solo] ${text}`)

const dir = mkdtempSync(join(tmpdir(), 'linkkit-solo-'))
await using emu = await Emulator.start({ devices: [{ productKey, deviceName, deviceSecret }] })
try {
  const persistence = new FilePersistence({ path: join(dir, 'alinkota.bin') })
  // IOT_Linkkit_Open(IOTX_LINKKIT_DEV_TYPE_MASTER, &master_meta_info)
  const device = linkkit.open({
    productKey,
    deviceName,
    deviceSecret,
    brokerUrl: emu.mqttUrl,
    firmware: { version: 'app-1.0.0-20180101.1000', persistence, allowHttp: true },
  })
  // IOT_RegisterCallback(ITE_FOTA, user_fota_event_handler)
  const done = new Promise<FirmwareOffer>((resolve, reject) => {
    device.on('fota', (offer) => {
      log(`new firmware version ${offer.version}`)
      // IOT_Linkkit_Query(master_devid, ITM_MSG_QUERY_FOTA_DATA, buffer, buffer_length)
      device.fota.download(offer, { chunkSizeBytes: 64 * 1024 }).then(() => resolve(offer), reject)
    })
  })
  device.on('fota:progress', (p) => {
    if (p.percent % 25 === 0) log(`downloaded ${p.percent}%`)
  })
  // IOT_Linkkit_Connect(master_devid): connects, informs the version, subscribes
  await device.connect()

  const image = randomBytes(512 * 1024)
  const firmware = await emu.ota.addFirmware({ productKey, version: 'app-1.1.0-20180101.1000', data: image })
  const job = await emu.ota.push({ productKey, deviceName, firmware })
  const offer = await done
  if (!readFileSync(persistence.path).equals(image)) throw new Error('stored image differs')
  log(`image verified and stored at ${persistence.path}`)

  // After HAL_Reboot the device reports the running version; the platform then marks the job done.
  await device.fota.reportVersion(offer.version)
  const finished = await emu.ota.waitForJob(job.id, 'succeeded', 5000)
  log(`upgrade job ${finished.id}: ${finished.status}`)
  await device.close() // IOT_Linkkit_Close
} finally {
  rmSync(dir, { recursive: true, force: true })
}
