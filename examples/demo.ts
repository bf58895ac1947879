/**
 * The end-to-end demo (`npm start`): a local platform emulator, a device running firmware 1.0.0 on
 * a simulated A/B flash, firmware 1.1.0 pushed over the air, streamed, verified, written to the
 * spare slot, activated, a simulated reboot, and the new version informed so the platform marks
 * the upgrade job succeeded.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { progressBar } from '@linkkit/cli'
import { Emulator } from '@linkkit/emulator'
import { FlashSimPersistence, type FotaProgress, linkkit } from '@linkkit/sdk'

const productKey = 'a1LampDemo01'
const deviceName = 'lamp-0001'
const deviceSecret = randomBytes(16).toString('hex')
const say = (text: string) => console.log(`» ${text}`)

const dir = mkdtempSync(join(tmpdir(), 'linkkit-demo-'))
const flashPath = join(dir, 'flash.bin')
const slotSizeBytes = 4 * 1024 * 1024

try {
  await using emu = await Emulator.start({
    products: [{ productKey, thingModel: new URL('./lamp.tsl.json', import.meta.url).pathname }],
    devices: [{ productKey, deviceName, deviceSecret }],
  })
  say(`emulator: MQTT ${emu.mqttUrl}, HTTP ${emu.httpUrl}`)

  // The factory image: version 1.0.0 in slot A, confirmed.
  const factory = await FlashSimPersistence.provision({
    path: flashPath,
    slotSizeBytes,
    image: { version: '1.0.0', data: randomBytes(256 * 1024) },
  })
  const firstBoot = await factory.boot()
  say(`boot: slot ${firstBoot.slot}, firmware ${firstBoot.version}`)

  const device = linkkit.open({
    productKey,
    deviceName,
    deviceSecret,
    brokerUrl: emu.mqttUrl,
    thingModel: new URL('./lamp.tsl.json', import.meta.url).pathname,
    // The emulator serves firmware over plain http on loopback; real devices keep https.
    firmware: { version: firstBoot.version, persistence: factory, allowHttp: true },
  })
  await device.connect()
  say('device connected and subscribed; version 1.0.0 informed')
  await device.postProperties({ LightSwitch: 1, Brightness: 80 })
  say('property post answered 200 by the platform')

  const bar = progressBar(process.stdout)
  device.on('fota:progress', (p: FotaProgress) => bar.update(p.bytes, p.total))
  const upgraded = new Promise<void>((resolve, reject) => {
    device.on('fota', (offer) => {
      say(
        `offer: firmware ${offer.version}, ${offer.size} bytes, ${offer.signMethod} ${offer.digest.slice(0, 16)}…`,
      )
      device.fota.download(offer).then(() => resolve(), reject)
    })
  })

  const image = randomBytes(3 * 1024 * 1024)
  const firmware = await emu.ota.addFirmware({
    productKey,
    version: '1.1.0',
    data: image,
    signMethod: 'SHA256',
  })
  const job = await emu.ota.push({ productKey, deviceName, firmware })
  say(`platform: firmware 1.1.0 pushed (job ${job.id})`)
  await upgraded
  bar.done()
  say(`downloaded and verified: sha256 ${createHash('sha256').update(image).digest('hex').slice(0, 16)}…`)

  await factory.activate()
  say('flash: new image activated for the next boot; rebooting')
  await device.close()
  await factory.close()

  // A reboot is a new process opening the same flash file.
  const flash = new FlashSimPersistence({ path: flashPath, slotSizeBytes })
  const boot = await flash.boot()
  say(`boot: slot ${boot.slot}, firmware ${boot.version}${boot.rolledBack ? ' (rolled back!)' : ''}`)
  if (boot.version !== '1.1.0') throw new Error(`expected to boot 1.1.0, booted ${boot.version}`)
  await flash.confirm()
  say('flash: new image confirmed')

  const rebooted = linkkit.open({
    productKey,
    deviceName,
    deviceSecret,
    brokerUrl: emu.mqttUrl,
    firmware: { version: boot.version, persistence: flash, allowHttp: true },
  })
  await rebooted.connect()
  const finished = await emu.ota.waitForJob(job.id, 'succeeded', 10_000)
  say(
    `platform: job ${finished.id} ${finished.status}; device reports ${emu.device(productKey, deviceName)?.version}`,
  )
  await rebooted.close()
  await flash.close()
  say('demo complete')
} finally {
  rmSync(dir, { recursive: true, force: true })
}
