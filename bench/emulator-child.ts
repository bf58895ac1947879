import { text } from 'node:stream/consumers'
import { Emulator, type EmulatorOptions } from '@linkkit/emulator'

const options = JSON.parse(await text(process.stdin)) as EmulatorOptions
const emu = await Emulator.start(options)
console.log(JSON.stringify({ mqttUrl: emu.mqttUrl, httpUrl: emu.httpUrl }))
process.on('SIGTERM', () => {
  emu.close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
})
