import { createRequire } from 'node:module'
import { PlainBroker } from '@linkkit/testing/plain-broker'
import { TLS_CERT } from '@linkkit/testing/tls'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import { brokerEndpoint } from '../src/client-options.js'
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

/** Links whose host records which devices came online, the clients they made and the option names each was given. */
function links(url: string, tls?: { ca: string }) {
  const clients: MqttClient[] = []
  const given: string[][] = []
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
      connect: ((brokerUrl: string | IClientOptions, options?: IClientOptions) => {
        given.push(Object.keys((typeof brokerUrl === 'string' ? options : brokerUrl) ?? {}))
        const client =
          typeof brokerUrl === 'string' ? mqtt.connect(brokerUrl, options) : mqtt.connect(brokerUrl)
        clients.push(client)
        return client
      }) as typeof mqtt.connect,
      url,
      tls,
      keepaliveSeconds: 60,
      mqttLog: mqttLogEnabled(),
    },
    host,
  )
  return { deviceLinks, clients, online, given }
}

describe('the broker endpoint, parsed once for a fleet', () => {
  it('takes what MQTT.js would take from the URL, and leaves WebSocket URLs to MQTT.js', () => {
    expect(brokerEndpoint('mqtt://127.0.0.1:1883')).toEqual({
      protocol: 'mqtt',
      host: '127.0.0.1',
      port: 1883,
    })
    expect(brokerEndpoint('mqtts://iot.example.com')).toEqual({
      protocol: 'mqtts',
      host: 'iot.example.com',
      port: undefined,
    })
    expect(brokerEndpoint('tcp://[::1]:2883')).toEqual({ protocol: 'tcp', host: '::1', port: 2883 })
    // Credentials or a clientId in the URL are not the device's: the signed options alone say who it is.
    expect(brokerEndpoint('mqtt://user:pass@10.0.0.1:1883/?clientId=other')).toEqual({
      protocol: 'mqtt',
      host: '10.0.0.1',
      port: 1883,
    })
    expect(brokerEndpoint('ws://127.0.0.1:8083/mqtt')).toBeUndefined()
    expect(brokerEndpoint('wss://127.0.0.1/mqtt')).toBeUndefined()
  })
})

describe('the options a fleet client is given', () => {
  it.each([
    ['TCP', false],
    ['TLS', true],
  ])('are all MQTT.js keeps (%s): it adds no property while it connects', async (_name, tls) => {
    await using broker = await PlainBroker.start({ tls })
    const { deviceLinks, clients, online, given } = links(broker.url, tls ? { ca: TLS_CERT } : undefined)
    const sim = new SimDevice(triples(1)[0] as SimDevice['triple'], '1.0.0', undefined)
    sim.status = 'connecting'
    deviceLinks.connect(sim)
    try {
      await until('the device online', () => online.length === 1)
      const client = clients[0] as MqttClient
      // MQTT.js keeps the object it was given: no copy, and no property added or deleted (either
      // would turn it into a dictionary of 1.4 KiB, for each client of the fleet).
      expect(Object.keys(client.options)).toEqual(given[0])
      expect(broker.connects[0]?.clientId).toMatch(tls ? /\|securemode=2,/ : /\|securemode=3,/)
    } finally {
      await deviceLinks.end(sim)
    }
  })
})

describe('a fleet over TLS', () => {
  it('verifies the broker by default: a self-signed certificate is refused and nothing connects', async () => {
    await using broker = await PlainBroker.start({ tls: true })
    await using fleet = await simulateFleet({ url: broker.url, devices: triples(2), postIntervalMs: 0 })
    await until('connect failures', () => fleet.metrics().connectFailures >= 2)
    expect(fleet.metrics().errors.ERR_CONNECTION).toBeGreaterThanOrEqual(2)
    expect(fleet.connected).toBe(0)
    expect(broker.connects).toEqual([])
  })

  it('connects with the CA given, or with verification turned off by name', async () => {
    await using broker = await PlainBroker.start({ tls: true })
    const devices = triples(4)
    await using trusting = await simulateFleet({
      url: broker.url,
      devices: devices.slice(0, 2),
      tls: { ca: TLS_CERT },
      postIntervalMs: 0,
    })
    await using unverified = await simulateFleet({
      url: broker.url,
      devices: devices.slice(2),
      tls: { rejectUnauthorized: false },
      postIntervalMs: 0,
    })
    await Promise.all([trusting.whenConnected(), unverified.whenConnected()])
    expect(broker.connects.map((c) => c.clientId.split('|')[0]).sort()).toEqual(
      devices.map((d) => `${d.productKey}.${d.deviceName}`).sort(),
    )
  })
})

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
