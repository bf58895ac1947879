import { createRequire } from 'node:module'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import { DeviceLinks, type LinkHost } from '../src/device-links.js'
import { simulateFleet } from '../src/index.js'
import { mqttLogEnabled, quietLog } from '../src/mqtt-log.js'
import { SimDevice } from '../src/sim-device.js'
import { startEmulator, triples, until } from './helpers.js'

// The `debug` MQTT.js loads, as the fleet finds it.
const debug = createRequire(createRequire(import.meta.url).resolve('mqtt'))('debug') as {
  enable(namespaces: string): void
  disable(): string
  log: (...args: unknown[]) => void
}
const originalLog = debug.log
const enabledBefore = debug.disable()
debug.enable(enabledBefore)

afterEach(() => {
  debug.log = originalLog
  debug.enable(enabledBefore)
})

/** Links whose host records which devices came online, and the clients they made. */
function links(url: string) {
  const clients: MqttClient[] = []
  const online: SimDevice[] = []
  const host: LinkHost = {
    online: (sim) => online.push(sim),
    connectFailed: (_sim, error) => {
      throw error
    },
    lost: () => {},
    message: () => {},
    error: (error) => {
      throw error
    },
    nextId: () => '1',
  }
  const deviceLinks = new DeviceLinks(
    {
      connect: ((brokerUrl: string, options: IClientOptions) => {
        const client = mqtt.connect(brokerUrl, options)
        clients.push(client)
        return client
      }) as typeof mqtt.connect,
      url,
      tls: undefined,
      keepaliveSeconds: 60,
      mqttLog: mqttLogEnabled(),
    },
    host,
  )
  return { deviceLinks, clients, online }
}

describe("fleet clients and MQTT.js's logging", () => {
  it('asks the debug MQTT.js loads, at each connect', () => {
    const enabled = mqttLogEnabled()
    debug.disable()
    expect(enabled()).toBe(false)
    debug.enable('mqttjs*')
    expect(enabled()).toBe(true)
    debug.enable('mqtt-packet:*')
    expect(enabled()).toBe(false)
  })

  it('gives a client the quiet logger while logging is off, and MQTT.js its own once it is on', async () => {
    const devices = triples(2)
    await using emulator = await startEmulator(devices)
    const { deviceLinks, clients, online } = links(emulator.mqttUrl)
    const [quiet, loud] = devices.map((t) => new SimDevice(t, '1.0.0', undefined)) as [SimDevice, SimDevice]
    try {
      debug.disable()
      quiet.status = 'connecting'
      deviceLinks.connect(quiet)
      await until('the first device online', () => online.length === 1)
      expect(clients[0]?.log).toBe(quietLog)

      const lines: string[] = []
      debug.log = (...args: unknown[]) => lines.push(String(args[0]))
      debug.enable('mqttjs:client')
      loud.status = 'connecting'
      deviceLinks.connect(loud)
      await until('the second device online', () => online.length === 2)
      expect(clients[1]?.log).not.toBe(quietLog)
      expect((clients[1]?.log as unknown as { namespace?: string } | undefined)?.namespace).toBe(
        'mqttjs:client',
      )
      expect(lines.some((line) => line.includes('MqttClient :: clientId'))).toBe(true)
    } finally {
      await Promise.all([deviceLinks.end(quiet), deviceLinks.end(loud)])
    }
  })

  it('a fleet started with DEBUG=mqttjs* logs through MQTT.js as before', async () => {
    const devices = triples(3)
    await using emulator = await startEmulator(devices)
    const lines: string[] = []
    debug.log = (...args: unknown[]) => lines.push(String(args[0]))
    debug.enable('mqttjs:client')
    await using fleet = await simulateFleet({ url: emulator.mqttUrl, devices, postIntervalMs: 0 })
    await fleet.whenConnected()
    expect(lines.filter((line) => line.includes('MqttClient :: clientId'))).toHaveLength(3)
  })
})
