import { text } from 'node:stream/consumers'
import { Emulator } from '@linkkit/emulator'

const devices = JSON.parse(await text(process.stdin)) as Array<{
  productKey: string
  deviceName: string
  deviceSecret: string
}>
const emu = await Emulator.start({ devices })
console.log(JSON.stringify({ mqttUrl: emu.mqttUrl, httpUrl: emu.httpUrl }))
process.on('SIGTERM', () => {
  emu.close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
})
