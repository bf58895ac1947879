/**
 * Pre-authentication bench: one client sends a CONNECT announcing 256 MiB (the largest remaining
 * length MQTT allows) and streams zeros, up to 64 MiB. Baseline: a bare aedes broker, which is
 * what the emulator's broker was before it capped what it reads before CONNACK. Prints, for both,
 * what the client got to send before the broker closed the connection and how much the broker's
 * process (this one) held, and the ratio of the two holdings.
 */
import { once } from 'node:events'
import { type AddressInfo, createServer, connect as netConnect, type Server } from 'node:net'
import { Emulator } from '@linkkit/emulator'
import { Aedes } from 'aedes'

const MiB = 1024 * 1024
const SEND_AT_MOST = 64 * MiB

interface Outcome {
  sentBytes: number
  heldBytes: number
  closed: boolean
}

async function attack(port: number): Promise<Outcome> {
  const socket = netConnect(port, '127.0.0.1')
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  await once(socket, 'connect')
  const before = process.memoryUsage().arrayBuffers
  socket.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]))
  const chunk = Buffer.alloc(256 * 1024)
  let sentBytes = 0
  while (!socket.destroyed && sentBytes < SEND_AT_MOST) {
    sentBytes += chunk.length
    if (!socket.write(chunk)) await Promise.race([new Promise((r) => socket.once('drain', r)), closed])
  }
  // Let the broker read what is still in flight before measuring what it holds.
  await new Promise((resolve) => setTimeout(resolve, 200))
  const heldBytes = process.memoryUsage().arrayBuffers - before
  const wasClosed = socket.destroyed
  socket.destroy()
  await closed
  return { sentBytes, heldBytes, closed: wasClosed }
}

async function bareAedes(): Promise<{ port: number; close: () => Promise<void> }> {
  const broker = await Aedes.createBroker({})
  const server: Server = createServer((socket) => broker.handle(socket))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()))
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`

export async function preAuthBench(): Promise<string[]> {
  const baseline = await bareAedes()
  const bare = await attack(baseline.port)
  await baseline.close()
  const emu = await Emulator.start()
  const capped = await attack(Number(new URL(emu.mqttUrl).port))
  await emu.close()
  const describe = (o: Outcome) =>
    `sent ${mib(o.sentBytes)}${o.closed ? ' until closed' : ', never closed'}, broker held ${mib(o.heldBytes)}`
  return [
    'pre-auth: a CONNECT announcing 256 MiB, up to 64 MiB sent',
    `  bare aedes (baseline)  ${describe(bare)}`,
    `  emulator               ${describe(capped)}`,
    `  held by the emulator / baseline: ${(Math.max(capped.heldBytes, 0) / Math.max(bare.heldBytes, 1)).toFixed(4)}`,
  ]
}
