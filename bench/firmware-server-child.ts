/** Serves one generated firmware image from the emulator's FirmwareServer in its own process. */
import { FirmwareServer } from '@linkkit/emulator'

const size = Number(process.argv[2])
const data = Buffer.allocUnsafe(size)
// Deterministic, incompressible-looking content without the cost of crypto randomness for 512 MiB.
let x = 0x9e3779b9
for (let i = 0; i + 4 <= size; i += 4) {
  x ^= x << 13
  x ^= x >>> 17
  x ^= x << 5
  data.writeUInt32LE(x >>> 0, i)
}
const server = await FirmwareServer.start({ host: '127.0.0.1', port: 0 })
const file = server.addFile({ data, name: 'fw.bin' })
console.log(
  JSON.stringify({
    url: file.url,
    size: file.size,
    md5: file.md5,
    sha256: file.sha256,
  }),
)
process.on('SIGTERM', () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
})
