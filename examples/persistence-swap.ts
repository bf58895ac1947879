/**
 * The same device takes three upgrades, each into another FirmwarePersistence adapter: memory,
 * a file (atomic rename after verification), and a simulated A/B NOR flash (activate, reboot,
 * confirm). The download code does not change; only the adapter does.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Emulator } from '@linkkit/emulator'
import {
  FilePersistence,
  type FirmwarePersistence,
  FlashSimPersistence,
  linkkit,
  MemoryPersistence,
} from '@linkkit/sdk'

const productKey = 'a1PersistSwp'
const deviceName = 'swap-0001'
const deviceSecret = randomBytes(16).toString('hex')
const log = (text: string) => console.log(`[persistence-swap] ${text}`)

const dir = mkdtempSync(join(tmpdir(), 'linkkit-swap-'))
await using emu = await Emulator.start({ devices: [{ productKey, deviceName, deviceSecret }] })
try {
  const memory = new MemoryPersistence()
  const file = new FilePersistence({ path: join(dir, 'firmware.bin') })
  const flash = await FlashSimPersistence.provision({
    path: join(dir, 'flash.bin'),
    slotSizeBytes: 1024 * 1024,
    image: { version: '1.0.0', data: randomBytes(64 * 1024) },
  })
  const adapters: Array<[string, FirmwarePersistence]> = [
    ['memory', memory],
    ['file', file],
    ['flash', flash],
  ]
  const device = linkkit.open({
    productKey,
    deviceName,
    deviceSecret,
    brokerUrl: emu.mqttUrl,
    firmware: { version: '1.0.0', allowHttp: true },
  })
  await device.connect()
  let minor = 0
  const images = new Map<string, Buffer>()
  for (const [name, persistence] of adapters) {
    const version = `1.${++minor}.0`
    const image = randomBytes(200 * 1024)
    images.set(name, image)
    const offered = new Promise<Parameters<typeof device.fota.download>[0]>((resolve) =>
      device.once('fota', resolve),
    )
    const job = await emu.ota.push({
      productKey,
      deviceName,
      firmware: await emu.ota.addFirmware({ productKey, version, data: image }),
    })
    const result = await device.fota.download(await offered, { persistence })
    log(`${name}: ${result.version} stored, ${result.bytes} bytes verified`)
    // Running the new version now: the platform closes the job when the device informs it.
    await device.fota.reportVersion(version)
    await emu.ota.waitForJob(job.id, 'succeeded', 5000)
  }
  if (!Buffer.from(memory.bytes() ?? []).equals(images.get('memory')!))
    throw new Error('memory holds another image')
  if (!readFileSync(file.path).equals(images.get('file')!)) throw new Error('the file holds another image')
  log('memory and file hold exactly the images they were sent')
  await flash.activate()
  const boot = await new FlashSimPersistence({
    path: join(dir, 'flash.bin'),
    slotSizeBytes: 1024 * 1024,
  }).boot()
  log(`flash boots slot ${boot.slot} with ${boot.version}`)
  if (boot.version !== '1.3.0') throw new Error(`expected 1.3.0, booted ${boot.version}`)
  await device.close()
  await flash.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
