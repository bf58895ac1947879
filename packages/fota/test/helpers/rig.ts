import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Connection, type ConnectionOptions, type DeviceIdentity, Topics } from '@linkkit/core'
import { Emulator, FirmwareServer, type UplinkContext } from '@linkkit/emulator'

export const device = Object.freeze({
  productKey: 'a1FotaRig',
  deviceName: 'fota-dev-1',
  deviceSecret: 'fota-rig-secret-0123456789abcdef',
})

/** One `/ota/device/progress` message as the cloud received it (step stays a string, as on the wire). */
export interface ProgressSeen {
  step: string
  desc: string
  module?: string
}

/** One `/ota/device/inform` message as the cloud received it. */
export interface InformSeen {
  version: string
  module?: string
}

export interface RigOptions {
  /** Connect the device before returning. @default true */
  connect?: boolean
  connection?: Partial<ConnectionOptions>
}

/**
 * A fresh emulated platform, a firmware file server and one device connection, all on loopback
 * ports 0. The cloud's view is recorded from the device's uplinks: `progress` and `informs`.
 */
export interface Rig extends AsyncDisposable {
  emu: Emulator
  /** The firmware file server (per-file counters and faults). */
  files: FirmwareServer
  /** `METHOD path` of every HTTP request the file server's port saw, unknown paths included. */
  httpRequests: string[]
  connection: Connection
  identity: DeviceIdentity
  progress: ProgressSeen[]
  informs: InformSeen[]
  /** Every uplink the device published, in order. */
  uplinks: UplinkContext[]
  /** Sends an upgrade push `{"code":"1000","data":…,"id":1,"message":"success"}` (docs/protocol.md §3.3). */
  push(data: unknown): Promise<void>
  /** Sends a raw payload on the device's upgrade topic. */
  pushRaw(payload: string | Uint8Array): Promise<void>
  close(): Promise<void>
}

export async function startRig(options: RigOptions = {}): Promise<Rig> {
  const emu = await Emulator.start({ devices: [device] })
  const { files, httpRequests, closeFiles } = await startFileServer()
  const identity = { productKey: device.productKey, deviceName: device.deviceName }
  const progress: ProgressSeen[] = []
  const informs: InformSeen[] = []
  const uplinks: UplinkContext[] = []
  emu.onUplink('#', (ctx) => {
    uplinks.push(ctx)
  })
  emu.onUplink(Topics.otaProgress(identity), ({ payload }) => {
    const params = (JSON.parse(payload.toString()) as { params: ProgressSeen }).params
    progress.push(params)
  })
  emu.onUplink(Topics.otaInform(identity), ({ payload }) => {
    informs.push((JSON.parse(payload.toString()) as { params: InformSeen }).params)
  })
  const connection = new Connection({
    ...device,
    brokerUrl: emu.mqttUrl,
    reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
    requestTimeoutMs: 2000,
    ...options.connection,
  })
  const close = async () => {
    await connection.close()
    await closeFiles()
    await emu.close()
  }
  if (options.connect !== false) {
    try {
      await connection.connect()
    } catch (error) {
      await close()
      throw error
    }
  }
  const pushRaw = (payload: string | Uint8Array) =>
    emu.publish(Topics.otaUpgrade(identity), payload, { qos: 1 })
  return {
    emu,
    files,
    httpRequests,
    connection,
    identity,
    progress,
    informs,
    uplinks,
    push: (data) => pushRaw(JSON.stringify({ code: '1000', data, id: 1, message: 'success' })),
    pushRaw,
    close,
    [Symbol.asyncDispose]: close,
  }
}

/** Steps only, the way a progress bar on the console reads them. */
export function steps(progress: readonly ProgressSeen[]): string[] {
  return progress.map((p) => p.step)
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | undefined | false,
  timeoutMs = 3000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/**
 * A FirmwareServer mounted on a loopback server of our own, so requests for unknown files (which
 * have no per-file counters) are counted too.
 */
async function startFileServer() {
  const files = new FirmwareServer()
  const httpRequests: string[] = []
  const http = createServer((req, res) => {
    httpRequests.push(`${req.method} ${req.url}`)
    if (files.handle(req, res)) return
    res.writeHead(404, { 'Content-Length': '0' })
    res.end()
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  files.baseUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  const closeFiles = async () => {
    await files.close()
    await new Promise<void>((resolve) => {
      http.close(() => resolve())
      http.closeAllConnections()
    })
  }
  return { files, httpRequests, closeFiles }
}
