import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { FirmwareServer } from '@linkkit/emulator'
import { TLS_CERT, TLS_KEY } from '@linkkit/testing/tls'

/** The firmware server mounted on an HTTPS server of its own, as the emulator mounts it. */
export async function httpsFirmware(data: Uint8Array) {
  const http: Server = createServer({ cert: TLS_CERT, key: TLS_KEY })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const { port } = http.address() as AddressInfo
  const firmware = new FirmwareServer({ baseUrl: `https://127.0.0.1:${port}` })
  http.on('request', (req, res) => {
    if (!firmware.handle(req, res)) res.writeHead(404, { 'Content-Length': '0' }).end()
  })
  let connections = 0
  http.on('connection', () => {
    connections += 1
  })
  const file = firmware.addFile({ data })
  const source = { url: file.url, size: data.length, signMethod: 'SHA256' as const, digest: file.sha256 }
  return {
    requests: () => firmware.stats(file.id).requests,
    faults: firmware.faultsFor(file.id),
    connections: () => connections,
    source,
    async [Symbol.asyncDispose]() {
      await firmware.close()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}
