// Child process for the restart test: a device that connects to the emulator and downloads an
// offer with FotaClient into FilePersistence until the test kills it with SIGKILL. It prints
// `bytes <n>` after every chunk stored and `done` if it ever finishes.
// Input (JSON in LINKKIT_CHILD): { brokerUrl, device, path, offer }.
import { Connection } from '@linkkit/core'
import { FotaClient } from '../../src/fota-client.js'
import { FilePersistence } from '../../src/persistence/file.js'
import type { FirmwareOffer } from '../../src/types.js'

interface ChildInput {
  brokerUrl: string
  device: { productKey: string; deviceName: string; deviceSecret: string }
  path: string
  offer: FirmwareOffer
}

const input = JSON.parse(process.env.LINKKIT_CHILD ?? '{}') as ChildInput
// A clientId of its own, so the test process's connection of the same device is not taken over.
const connection = await new Connection({
  ...input.device,
  brokerUrl: input.brokerUrl,
  clientId: `${input.device.deviceName}-child`,
}).connect()
const fota = new FotaClient(connection, {
  version: '1.0.0',
  persistence: new FilePersistence({ path: input.path, fsync: false }),
  allowHttp: true,
})
await fota.start()
fota.on('fota:progress', ({ bytes }) => process.stdout.write(`bytes ${bytes}\n`))
const result = await fota.download(input.offer)
process.stdout.write(`done ${JSON.stringify(result)}\n`)
await connection.close()
