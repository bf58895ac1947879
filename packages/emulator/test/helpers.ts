import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { afterEach } from 'vitest'
import { clientIdOf, hmacHex, passwordContent, type TestSignMethod } from './signing.js'

export const PK = 'a1B2c3D4e5F'
export const DN = 'device001'
export const DS = '0123456789abcdef0123456789abcdef'
export const OTHER = {
  productKey: 'a1Other0000',
  deviceName: 'device002',
  deviceSecret: 'fedcba9876543210fedcba9876543210',
}
export const DEVICE = { productKey: PK, deviceName: DN, deviceSecret: DS }

export interface CredentialOptions {
  productKey?: string
  deviceName?: string
  deviceSecret?: string
  signMethod?: TestSignMethod
  timestamp?: string | undefined
  upperCase?: boolean
  /** Extra clientId extension keys, e.g. `{ _ss: '1' }`. */
  params?: Record<string, string>
}

/** CONNECT credentials signed as the C SDKs do (docs/protocol.md §1.2). */
export function credentials(
  options: CredentialOptions = {},
): Pick<IClientOptions, 'clientId' | 'username' | 'password'> {
  const productKey = options.productKey ?? PK
  const deviceName = options.deviceName ?? DN
  const signMethod = options.signMethod ?? 'hmacsha256'
  const base = `${productKey}.${deviceName}`
  const timestamp = 'timestamp' in options ? options.timestamp : '2524608000000'
  const params: Record<string, string> = { securemode: '3', signmethod: signMethod, ...options.params }
  if (timestamp !== undefined) params.timestamp = timestamp
  const hex = hmacHex(
    signMethod,
    options.deviceSecret ?? DS,
    passwordContent({ clientId: base, deviceName, productKey, timestamp }),
  )
  return {
    clientId: clientIdOf(base, params),
    username: `${deviceName}&${productKey}`,
    password: options.upperCase ? hex.toUpperCase() : hex,
  }
}

const open = new Set<MqttClient>()

afterEach(async () => {
  await Promise.all([...open].map((client) => client.endAsync(true)))
  open.clear()
})

/** A client that never reconnects and is closed after the test. */
export function client(url: string, options: IClientOptions): MqttClient {
  const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 2000, keepalive: 60, ...options })
  c.on('error', () => {})
  open.add(c)
  return c
}

/** Connects and resolves once CONNACK 0 arrived; rejects with the client's error otherwise. */
export async function connect(url: string, options: IClientOptions): Promise<MqttClient> {
  const c = client(url, options)
  await new Promise<void>((resolve, reject) => {
    const settle = (error?: unknown) => {
      c.off('connect', onConnect)
      c.off('error', settle)
      c.off('close', onClose)
      if (error === undefined) resolve()
      else reject(error)
    }
    const onConnect = () => settle()
    const onClose = () => settle(new Error('closed before CONNACK'))
    c.on('connect', onConnect)
    c.on('error', settle)
    c.on('close', onClose)
  })
  return c
}

/** The CONNACK return code a refused CONNECT produced. */
export async function refusalCode(url: string, options: IClientOptions): Promise<number | undefined> {
  try {
    await connect(url, options)
  } catch (error) {
    return (error as { code?: number }).code
  }
  throw new Error('CONNECT was accepted')
}

/** Resolves with the next message on `topic` (or any topic when omitted). */
export function nextMessage(c: MqttClient, topic?: string): Promise<{ topic: string; payload: Buffer }> {
  return new Promise((resolve) => {
    const onMessage = (t: string, payload: Buffer) => {
      if (topic !== undefined && t !== topic) return
      c.off('message', onMessage)
      resolve({ topic: t, payload })
    }
    c.on('message', onMessage)
  })
}

/** Collects every topic the client receives. */
export function received(c: MqttClient): string[] {
  const topics: string[] = []
  c.on('message', (topic) => topics.push(topic))
  return topics
}

/** The SUBACK code for one filter: the granted QoS, or 128 when refused. */
export async function suback(c: MqttClient, filter: string, qos: 0 | 1 = 1): Promise<number | undefined> {
  try {
    const [grant] = await c.subscribeAsync(filter, { qos })
    return grant?.qos
  } catch (error) {
    const packet = (error as { packet?: { granted?: unknown[] } }).packet
    return packet?.granted?.[0] as number | undefined
  }
}

/** Resolves when the client's connection closes. */
export function closed(c: MqttClient): Promise<void> {
  return new Promise((resolve) => c.once('close', () => resolve()))
}
