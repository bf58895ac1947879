import type { MqttClient } from 'mqtt'
import { Emulator, type EmulatorOptions } from '../src/index.js'
import { connect, credentials, nextMessage } from './helpers.js'
import { hmacHex, passwordContent, type TestSignMethod } from './signing.js'

export const GW = { productKey: 'a1GatewayEm', deviceName: 'gw-em-01', deviceSecret: 'a'.repeat(32) }
export const SUB_PK = 'a1SubDevEm1'

export function sub(i: number) {
  return { productKey: SUB_PK, deviceName: `sub-${i}`, deviceSecret: `secret-${i}`.padEnd(32, '0') }
}

export const id = (d: { productKey: string; deviceName: string }) => ({
  productKey: d.productKey,
  deviceName: d.deviceName,
})

/** The gateway's product: only a gateway may register sub-devices. */
export const GW_PRODUCT = { productKey: GW.productKey, nodeType: 'gateway' } as const

export function startEmulator(count: number, options: EmulatorOptions = {}): Promise<Emulator> {
  return Emulator.start({
    devices: [GW, ...Array.from({ length: count }, (_, i) => sub(i + 1))],
    requestTimeoutMs: 1000,
    // These tests drive the platform's logic with QoS 1 requests (`request` below): with Nagle's
    // algorithm on, each reply would wait ~40 ms behind its PUBACK for the client's delayed ACK.
    noDelay: true,
    ...options,
    products: [GW_PRODUCT, ...(options.products ?? [])],
  })
}

/** The gateway as a raw MQTT.js client. */
export function gatewayClient(emu: Emulator): Promise<MqttClient> {
  return connect(emu.mqttUrl, credentials(GW))
}

interface Signable {
  productKey: string
  deviceName: string
  deviceSecret: string
}

/** Signs as the C SDKs do: HMAC(secret, "clientId…deviceName…productKey…timestamp…") (docs/protocol.md §5). */
export function signed(d: Signable, method: TestSignMethod = 'hmacsha256', secret = d.deviceSecret) {
  const clientId = `${d.productKey}.${d.deviceName}`
  const timestamp = '1700000000000'
  const sign = hmacHex(
    method,
    secret,
    passwordContent({ clientId, deviceName: d.deviceName, productKey: d.productKey, timestamp }),
  )
  const camel = { hmacmd5: 'hmacMd5', hmacsha1: 'hmacSha1', hmacsha256: 'hmacSha256' }[method]
  return { productKey: d.productKey, deviceName: d.deviceName, clientId, timestamp, signmethod: camel, sign }
}

/** A `combine.login` params object for `d`. */
export function loginParams(d: Signable, secret = d.deviceSecret) {
  const { signmethod, ...rest } = signed(d, 'hmacsha256', secret)
  return { ...rest, signMethod: signmethod, cleanSession: 'true' }
}

let nextId = 1

export interface Reply {
  id: string
  code: number
  data: unknown
  message?: string
}

/** Publishes an Alink request and resolves with the parsed `_reply`. */
export async function request(c: MqttClient, topic: string, params: unknown): Promise<Reply> {
  await c.subscribeAsync(`${topic}_reply`, { qos: 1 })
  const reply = nextMessage(c, `${topic}_reply`)
  const idText = String(nextId++)
  await c.publishAsync(topic, JSON.stringify({ id: idText, version: '1.0', params }), { qos: 1 })
  return JSON.parse((await reply).payload.toString('utf8')) as Reply
}

export const sys = (d: { productKey: string; deviceName: string }, rest: string) =>
  `/sys/${d.productKey}/${d.deviceName}/${rest}`
export const session = (op: string) => `/ext/session/${GW.productKey}/${GW.deviceName}/combine/${op}`

/** Adds `subs` to the gateway's topology and logs them in, asserting both succeed. */
export async function addAndLogin(c: MqttClient, subs: Signable[]): Promise<void> {
  const topo = await request(
    c,
    sys(GW, 'thing/topo/add'),
    subs.map((s) => signed(s)),
  )
  if (topo.code !== 200) throw new Error(`topo add answered ${topo.code}`)
  for (const s of subs) {
    const login = await request(c, session('login'), loginParams(s))
    if (login.code !== 200) throw new Error(`login answered ${login.code}`)
  }
}
