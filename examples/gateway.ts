/**
 * A gateway with three sub-devices (the C SDK's linkkit_example_gateway): one MQTT connection
 * carries all of them. The sub-devices are added to the gateway's topology and logged in with one
 * `combine.batch_login`, each posts its properties, one answers a service call from the cloud,
 * and one is upgraded over the air into its own persistence, informing its new version on its own
 * OTA topic. Self-contained: a local platform emulator plays the cloud.
 *
 *   npx tsx --conditions=development examples/gateway.ts
 */
import { randomBytes } from 'node:crypto'
import { Emulator } from '@linkkit/emulator'
import { linkkit, MemoryPersistence } from '@linkkit/sdk'

const say = (text: string) => console.log(`» ${text}`)
const tsl = new URL('./lamp.tsl.json', import.meta.url).pathname
const gatewayId = {
  productKey: 'a1GwDemo0001',
  deviceName: 'gateway-01',
  deviceSecret: randomBytes(16).toString('hex'),
}
const lampPk = 'a1LampSub001'
const lamps = [1, 2, 3].map((n) => ({
  productKey: lampPk,
  deviceName: `lamp-0${n}`,
  deviceSecret: randomBytes(16).toString('hex'),
}))

await using emu = await Emulator.start({
  products: [{ productKey: lampPk, thingModel: tsl }],
  devices: [gatewayId, ...lamps],
})
say(`emulator: MQTT ${emu.mqttUrl}`)

const gateway = linkkit.open({ ...gatewayId, brokerUrl: emu.mqttUrl })
// Touch `subdevices` before connecting: the platform's notices to the gateway are subscribed by then.
gateway.subdevices.on('subdevice:notice', (n) => say(`notice: ${n.deviceName} ${n.notice}`))
await gateway.connect()
say(`gateway ${gatewayId.deviceName} connected`)

// The third lamp runs firmware 1.0.0 and keeps new images in memory.
const store = new MemoryPersistence()
const subs = lamps.map((lamp, i) =>
  gateway.subdevices.open({
    ...lamp,
    thingModel: tsl,
    ...(i === 2 ? { firmware: { version: '1.0.0', persistence: store, allowHttp: true } } : {}),
  }),
)
let batches = 0
emu.onUplink('/ext/session/+/+/combine/batch_login', () => void batches++)
await gateway.subdevices.connectAll()
say(`${subs.length} sub-devices in the topology and logged in (${batches} batch login message)`)

for (const [i, sub] of subs.entries()) {
  await sub.postProperties({ LightSwitch: 1, Brightness: 30 + 20 * i })
  const stored = emu.device(sub.productKey, sub.deviceName)?.properties?.Brightness?.value
  say(`${sub.deviceName}: posted Brightness ${30 + 20 * i}; the platform holds ${String(stored)}`)
}

const [, second, third] = subs
if (second === undefined || third === undefined) throw new Error('three sub-devices expected')
second.onService('wakeup', async (params) => {
  say(`${second.deviceName}: wakeup service called with ${JSON.stringify(params)}`)
  return { out: 1 }
})
const reply = await emu.invokeService(lampPk, second.deviceName, 'wakeup', { delaySeconds: 5 })
say(`cloud: wakeup on ${second.deviceName} answered ${reply.code} ${JSON.stringify(reply.data)}`)

const upgraded = new Promise<void>((resolve, reject) => {
  third.on('fota', (offer) => {
    say(`${third.deviceName}: offered firmware ${offer.version} (${offer.size} bytes)`)
    third.fota
      .download(offer)
      .then(() => third.fota.reportVersion(offer.version))
      .then(resolve, reject)
  })
})
const firmware = await emu.ota.addFirmware({
  productKey: lampPk,
  version: '1.1.0',
  data: randomBytes(64 * 1024),
  signMethod: 'SHA256',
})
const job = await emu.ota.push({ productKey: lampPk, deviceName: third.deviceName, firmware })
await upgraded
const done = await emu.ota.waitForJob(job.id, 'succeeded')
say(
  `${third.deviceName}: ${store.image?.size} bytes verified and stored; job ${done.status}, reports ${emu.device(lampPk, third.deviceName)?.version}`,
)

await gateway.close()
say(`gateway closed; sub-devices online: ${emu.gateway.loggedIn(gatewayId).length}`)
