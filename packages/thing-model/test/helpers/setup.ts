import { readFileSync } from 'node:fs'
import { Connection, type ConnectionOptions, type LinkkitError } from '@linkkit/core'
import { PlainBroker } from '@linkkit/testing/plain-broker'
import { parseThingModel, ThingClient, type ThingClientOptions, type ThingModel } from '../../src/index.js'
import { lampUrl } from '../fixtures/helpers.js'
import { Cloud } from './cloud.js'

export const triple = {
  productKey: 'a1LampDemo0',
  deviceName: 'lamp001',
  deviceSecret: '0123456789abcdef0123456789abcdef',
}

/** The smart-lamp thing model of the fixtures. */
export const lamp: ThingModel = parseThingModel(JSON.parse(readFileSync(lampUrl, 'utf8')) as object)

export const sys = `/sys/${triple.productKey}/${triple.deviceName}`

/** A connected device with a started ThingClient, a fresh broker and the cloud stand-in; dispose to tear down. */
export interface Rig extends AsyncDisposable {
  broker: PlainBroker | undefined
  connection: Connection
  client: ThingClient
  cloud: Cloud
  /** Every `error` the client emitted. */
  errors: LinkkitError[]
  /** What the device itself published (broker-side view; aedes only). */
  devicePublished(topic?: string): Array<{ topic: string; payload: Buffer }>
}

export async function startRig(
  options: ThingClientOptions = {},
  connectionOptions: Partial<ConnectionOptions> = {},
  url?: string,
): Promise<Rig> {
  const broker = url === undefined ? await PlainBroker.start() : undefined
  const brokerUrl = url ?? (broker as PlainBroker).url
  const cloud = await Cloud.connect(brokerUrl, triple)
  const connection = new Connection({
    ...triple,
    brokerUrl,
    requestTimeoutMs: 2000,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    ...connectionOptions,
  })
  const client = new ThingClient(connection, options)
  const errors: Rig['errors'] = []
  client.on('error', (e) => errors.push(e))
  await client.start()
  await connection.connect()
  const deviceClientId = (id: string | undefined) => id !== undefined && !id.startsWith('cloud-')
  return {
    broker,
    connection,
    client,
    cloud,
    errors,
    devicePublished: (topic) =>
      (broker?.published ?? []).filter(
        (p) => deviceClientId(p.clientId) && (topic === undefined || p.topic === topic),
      ),
    async [Symbol.asyncDispose]() {
      await client.close()
      await connection.close()
      await cloud.close()
      await broker?.stop()
    },
  }
}
