import type { Server, Socket } from 'node:net'
import type { Aedes, Client } from 'aedes'
import type { Logger } from 'pino'

/**
 * What a client may send before its CONNACK. A CONNECT of a Link Kit device is a few hundred bytes
 * (clientId, username, a 64-hex password); mqtt-packet would buffer one of up to 256 MiB whole
 * before aedes could authenticate it.
 */
export const MAX_BYTES_BEFORE_CONNACK = 64 * 1024

/**
 * Counts what aedes reads from each new connection until its CONNACK is sent, and destroys the
 * connection past `limitBytes`. aedes reads with `read()` on 'readable', which emits 'data' for
 * every chunk, so a 'data' listener sees each one without changing how the stream flows; it must be
 * added after `broker.handle(socket)` (the server's own connection listener) has attached aedes.
 */
export function capBytesBeforeConnack(
  server: Server,
  broker: Aedes,
  logger: Logger,
  limitBytes = MAX_BYTES_BEFORE_CONNACK,
): void {
  const uncap = new WeakMap<object, () => void>()
  server.on('connection', (socket: Socket) => {
    let read = 0
    const count = (chunk: Buffer) => {
      read += chunk.length
      if (read <= limitBytes) return
      logger.info(
        { remoteAddress: socket.remoteAddress, bytes: read },
        'connection closed: too much before CONNACK',
      )
      socket.off('data', count)
      socket.destroy()
    }
    socket.on('data', count)
    uncap.set(socket, () => socket.off('data', count))
  })
  broker.on('connackSent', (_packet, client: Client) => {
    uncap.get(client.conn)?.()
  })
}
