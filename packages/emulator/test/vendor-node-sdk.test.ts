import { createHash } from 'node:crypto'
import iot, {
  type SdkConfig,
  type SdkGateway,
  type SdkReply,
  type SdkRequest,
  type SdkThing,
  type SdkTriple,
} from 'alibabacloud-iot-device-sdk'
import { describe, expect, it } from 'vitest'
import { type ConnectRefusedInfo, Emulator, REGISTER_PATH } from '../src/index.js'
import { LAMP_TSL } from './alink-helpers.js'

/**
 * The vendor's own Node SDK (`alibabacloud-iot-device-sdk`, unmodified, with the MQTT.js 3.0.0 it
 * pins) against the emulator: every feature it has, each as a round trip whose answer the SDK's
 * callback receives. What the SDK gets wrong on its own side is asserted as such and written up
 * in docs/emulator.md ("The vendor's Node SDK").
 */

const PK = 'a1NodeSdk01'
const DN = 'node-lamp'
const DS = 'a5f2c1d0e9b8a7f6e5d4c3b2a1f0e9d8'
const LAMP: SdkTriple = { productKey: PK, deviceName: DN, deviceSecret: DS }
const GW: SdkTriple = { productKey: 'a1NodeGw001', deviceName: 'node-gw', deviceSecret: 'f'.repeat(32) }
const SUB: SdkTriple = { productKey: PK, deviceName: 'node-sub', deviceSecret: 'e'.repeat(32) }
const SYS = `/sys/${PK}/${DN}`

/** Every filter the emulator granted, per emulator, from its start on. */
const granted = new WeakMap<Emulator, Set<string>>()

async function start(): Promise<Emulator> {
  const emu = await Emulator.start({
    products: [
      { productKey: PK, thingModel: LAMP_TSL, productSecret: 'p'.repeat(32) },
      // Only a gateway product's devices may register sub-devices, as on the platform.
      { productKey: GW.productKey, nodeType: 'gateway' },
    ],
    devices: [LAMP, GW, SUB, { productKey: PK, deviceName: 'node-new' }],
  })
  const filters = new Set<string>()
  granted.set(emu, filters)
  emu.on('client:subscribed', (info) => {
    for (const filter of info.filters) filters.add(filter)
  })
  return emu
}

/** Resolves with what the SDK passes its callback; rejects after `ms` naming what never came. */
function answer<T>(what: string, call: (done: (value: T) => void) => void, ms = 4000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the SDK never called back: ${what}`)), ms)
    call((value) => {
      clearTimeout(timer)
      resolve(value)
    })
  })
}

/** An SDK client that ends (with its reconnect loop) when the test is done. */
type Held<T extends SdkThing> = T & AsyncDisposable

function held<T extends SdkThing>(thing: T): Held<T> {
  thing.on('error', () => {})
  return Object.assign(thing, {
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => thing.end(true, () => resolve())),
  })
}

/** A device or gateway of the SDK once connected; the CONNACK refusal as the SDK reports it otherwise. */
async function online<T extends SdkThing>(thing: Held<T>): Promise<Held<T>> {
  await new Promise<void>((resolve, reject) => {
    thing.once('connect', () => resolve())
    thing.once('error', (args: unknown[]) => reject(args[0]))
  })
  return thing
}

function device(emu: Emulator, config: Partial<SdkConfig> = {}): Held<SdkThing> {
  return held(iot.device({ ...LAMP, brokerUrl: emu.mqttUrl, ...config }))
}

/** Answers a request the SDK offers no reply function for, as an application must. */
function replyTo(thing: SdkThing, topic: string, req: SdkRequest): void {
  thing.publish(`${topic}_reply`, JSON.stringify({ id: req.id, code: 200, data: {} }))
}

/** The id of each reply a device publishes on topics matching `filter`, in order. */
function wireReplyIds(emu: Emulator, filter: string): string[] {
  const ids: string[] = []
  emu.onUplink(filter, ({ payload }) => {
    ids.push(String((JSON.parse(payload.toString('utf8')) as { id: unknown }).id))
  })
  return ids
}

describe(`vendor Node SDK ${iot.sdkver}: connecting`, () => {
  it('connects with its default sign method, hmacsha1, and its own clientId form', async () => {
    await using emu = await start()
    await using lamp = await online(device(emu))
    expect(lamp.connected).toBe(true)
    const snapshot = emu.device(PK, DN)
    expect(snapshot?.clientId).toMatch(new RegExp(`^${PK}&${DN}\\|securemode=3,signmethod=hmacsha1,`))
    expect(snapshot?.clientParams).toMatchObject({ signmethod: 'hmacsha1', lan: 'NodeJS', _v: iot.sdkver })
  })

  it.each(['md5', 'sha256'])(
    'is refused with signAlgorithm %s, which it advertises but does not sign with (always HMAC-SHA1)',
    async (algorithm) => {
      await using emu = await start()
      const refused = new Promise<ConnectRefusedInfo>((resolve) => emu.once('connect:refused', resolve))
      await using lamp = device(emu, { signAlgorithm: algorithm })
      await expect(online(lamp)).rejects.toMatchObject({ code: 4 })
      expect(await refused).toMatchObject({ returnCode: 4, reason: 'signature mismatch' })
      expect((await refused).clientId).toContain(`signmethod=hmac${algorithm},`)
    },
  )

  it('is refused with a wrong secret (CONNACK 4) and never comes online', async () => {
    await using emu = await start()
    const refused = new Promise<ConnectRefusedInfo>((resolve) => emu.once('connect:refused', resolve))
    await using lamp = device(emu, { deviceSecret: DS.replace('a', 'b') })
    await expect(online(lamp)).rejects.toMatchObject({ code: 4, message: /Bad username or password/ })
    expect(await refused).toMatchObject({ returnCode: 4, reason: 'signature mismatch' })
    expect(emu.device(PK, DN)?.activated).toBe(false)
  })

  it('registers dynamically over HTTPS (iot.register) and connects with the secret it got', async () => {
    await using emu = await start()
    const registered = await answer<unknown>('register', (done) =>
      iot.register(
        {
          productKey: PK,
          productSecret: 'p'.repeat(32),
          deviceName: 'node-new',
          registerURL: `${emu.httpUrl}${REGISTER_PATH}`,
        },
        done,
      ),
    )
    expect(registered).toMatchObject({ code: 200, data: { productKey: PK, deviceName: 'node-new' } })
    const { deviceSecret } = (registered as { data: { deviceSecret: string } }).data
    await using fresh = await online(device(emu, { deviceName: 'node-new', deviceSecret }))
    expect(fresh.connected).toBe(true)
  })
})

describe(`vendor Node SDK ${iot.sdkver}: thing model`, () => {
  it('posts properties and gets the reply with its "<n>|exp-topic|<reply topic>" id', async () => {
    await using emu = await start()
    await using lamp = await online(device(emu))
    const res = await answer<SdkReply>('postProps', (done) => lamp.postProps({ Brightness: 42 }, done))
    expect(res).toMatchObject({ code: 200, method: 'thing.event.property.post' })
    expect(res.id).toMatch(new RegExp(`^\\d+\\|exp-topic\\|${SYS}/thing/event/property/post_reply$`))
    expect(emu.device(PK, DN)?.properties?.Brightness?.value).toBe(42)
  })

  it('posts events and gets 200, or the TSL error code for a bad value', async () => {
    await using emu = await start()
    await using lamp = await online(device(emu))
    const ok = await answer<SdkReply>('postEvent', (done) => lamp.postEvent('lowpower', { power: 10 }, done))
    expect(ok).toMatchObject({ code: 200, method: 'thing.event.lowpower.post' })
    expect(emu.device(PK, DN)?.events?.at(-1)).toMatchObject({ identifier: 'lowpower', value: { power: 10 } })
    const bad = await answer<SdkReply>('postEvent', (done) =>
      lamp.postEvent('lowpower', { power: 'x' }, done),
    )
    expect(bad.code).toBeGreaterThanOrEqual(6300)
  })

  it('receives property sets in onProps; the application publishes the set_reply itself', async () => {
    await using emu = await start()
    await using lamp = await online(device(emu))
    const topic = `${SYS}/thing/service/property/set`
    await subscribed(emu, topic)
    const seen: SdkRequest[] = []
    lamp.onProps((req) => {
      seen.push(req)
      replyTo(lamp, topic, req)
    })
    const reply = await emu.setProperties(PK, DN, { LightSwitch: 1, Brightness: 30 })
    expect(reply).toMatchObject({ code: 200, data: {} })
    expect(seen).toEqual([
      {
        id: reply.id,
        version: '1.0',
        params: { LightSwitch: 1, Brightness: 30 },
        method: 'thing.service.property.set',
      },
    ])
  })

  it('answers an async service with reply(), whose fresh id the emulator correlates', async () => {
    await using emu = await start()
    await using lamp = await online(device(emu))
    const wire = wireReplyIds(emu, `${SYS}/thing/service/wakeup_reply`)
    const asked: SdkRequest[] = []
    lamp.onService('wakeup', (req, reply) => {
      asked.push(req)
      reply({ code: 200, data: { out: Number(req.params.delaySeconds) * 2 } })
    })
    // onService subscribes without waiting for the SUBACK: wait for the emulator to grant it.
    await subscribed(emu, `${SYS}/thing/service/wakeup`)
    const reply = await emu.invokeService(PK, DN, 'wakeup', { delaySeconds: 4 })
    expect(reply).toEqual({ id: asked[0]?.id, code: 200, data: { out: 8 } })
    expect(wire).toHaveLength(1)
    expect(wire[0]).not.toBe(asked[0]?.id)
  })

  it('answers a sync service over legacy RRPC with reply(..., "sync")', async () => {
    await using emu = await start()
    await using lamp = await online(device(emu))
    await subscribed(emu, `${SYS}/rrpc/request/+`)
    const wire: string[] = []
    emu.onUplink(`${SYS}/rrpc/response/+`, ({ topic }) => {
      wire.push(topic)
    })
    lamp.onService('Blink', (req, reply) => {
      reply({ code: 200, data: { done: 1, durationMs: Number(req.params.times) * 100.5 } }, 'sync')
    })
    const color = { Red: 1, Green: 2, Blue: 3 }
    const reply = await emu.invokeService(PK, DN, 'Blink', { times: 2, intervalMs: 100, color })
    expect(reply).toMatchObject({ code: 200, data: { done: 1, durationMs: 201 } })
    expect(wire).toEqual([expect.stringMatching(new RegExp(`^${SYS}/rrpc/response/\\d+$`))])
  })

  it('subscribes only the first service passed to onService (a bug of the SDK)', async () => {
    await using emu = await start()
    await using lamp = await online(device(emu))
    lamp.onService('wakeup', (_req, reply) => reply({ code: 200, data: { out: 1 } }))
    lamp.onService('Blink', (_req, reply) => reply({ code: 200, data: { done: 1 } }))
    await subscribed(emu, `${SYS}/thing/service/wakeup`)
    expect((await emu.invokeService(PK, DN, 'wakeup', { delaySeconds: 1 })).code).toBe(200)
    // Blink called async goes to thing/service/Blink, which the SDK never subscribed.
    await expect(
      emu.invokeService(PK, DN, 'Blink', { times: 1 }, { sync: false, timeoutMs: 300 }),
    ).rejects.toMatchObject({ code: 'ERR_REQUEST_TIMEOUT' })
  })

  it('gets the remote configuration and its file matches the sign', async () => {
    await using emu = await start()
    const data = new TextEncoder().encode('{"interval":30}')
    emu.setConfig(PK, { configId: 'cfg-1', data })
    await using lamp = await online(device(emu))
    const res = await answer<SdkReply>('getConfig', (done) => lamp.getConfig(done))
    expect(res).toMatchObject({
      code: 200,
      data: { configId: 'cfg-1', getType: 'file', signMethod: 'Sha256' },
    })
    const offer = res.data as { url: string; sign: string; configSize: number }
    const file = new Uint8Array(await (await fetch(offer.url)).arrayBuffer())
    expect(file).toEqual(data)
    expect(createHash('sha256').update(file).digest('hex')).toBe(offer.sign)
  })

  it('receives a configuration push in onConfig; the application publishes the push_reply itself', async () => {
    await using emu = await start()
    emu.setConfig(PK, { configId: 'cfg-2', data: new Uint8Array([1, 2, 3]) })
    await using lamp = await online(device(emu))
    await subscribed(emu, `${SYS}/thing/config/push`)
    const pushed: SdkRequest[] = []
    lamp.onConfig((req) => {
      pushed.push(req)
      replyTo(lamp, `${SYS}/thing/config/push`, req)
    })
    expect(await emu.pushConfig(PK, DN)).toMatchObject({ code: 200 })
    expect(pushed[0]).toMatchObject({ method: 'thing.config.push', params: { configId: 'cfg-2' } })
  })

  it('updates and deletes tags', async () => {
    await using emu = await start()
    await using lamp = await online(device(emu))
    const tags = [
      { attrKey: 'room', attrValue: 'kitchen' },
      { attrKey: 'floor', attrValue: '2' },
    ]
    const updated = await answer<SdkReply>('postTags', (done) => lamp.postTags(tags, done))
    expect(updated).toMatchObject({ code: 200, method: 'thing.deviceinfo.update' })
    expect(emu.device(PK, DN)?.tags).toEqual({ room: 'kitchen', floor: '2' })
    const deleted = await answer<SdkReply>('deleteTags', (done) => lamp.deleteTags(['room'], done))
    expect(deleted).toMatchObject({ code: 200, method: 'thing.deviceinfo.delete' })
    expect(emu.device(PK, DN)?.tags).toEqual({ floor: '2' })
  })
})

describe(`vendor Node SDK ${iot.sdkver}: gateway`, () => {
  it('adds and lists its topology, logs a sub-device in, and carries its posts and services', async () => {
    await using emu = await start()
    await using gw = await online(held(iot.gateway({ ...GW, brokerUrl: emu.mqttUrl })) as Held<SdkGateway>)
    const added = await answer<SdkReply>('addTopo', (done) => gw.addTopo([SUB], done))
    expect(added).toMatchObject({ code: 200 })
    const topo = await answer<SdkReply>('getTopo', (done) => gw.getTopo(done))
    expect(topo).toMatchObject({ code: 200, data: [{ productKey: PK, deviceName: SUB.deviceName }] })

    const logins: SdkThing[] = []
    const login = answer<SdkReply>('login', (done) => logins.push(gw.login(SUB, done)))
    const [subDevice] = logins as [SdkThing]
    const up = new Promise<void>((resolve) => subDevice.once('connect', () => resolve()))
    expect(await login).toMatchObject({ code: 200 })
    await up
    expect(emu.device(PK, SUB.deviceName)?.online).toBe(true)

    const posted = await answer<SdkReply>('sub postProps', (done) =>
      subDevice.postProps({ Brightness: 7 }, done),
    )
    expect(posted).toMatchObject({ code: 200 })
    expect(emu.device(PK, SUB.deviceName)?.properties?.Brightness?.value).toBe(7)

    subDevice.onService('wakeup', (req, reply) =>
      reply({ code: 200, data: { out: req.params.delaySeconds } }),
    )
    await subscribed(emu, `/sys/${PK}/${SUB.deviceName}/thing/service/wakeup`)
    expect(await emu.invokeService(PK, SUB.deviceName, 'wakeup', { delaySeconds: 3 })).toMatchObject({
      code: 200,
      data: { out: 3 },
    })

    const identity = { productKey: PK, deviceName: SUB.deviceName }
    const out = await answer<SdkReply>('logout', (done) => gw.logout(identity, done))
    expect(out).toMatchObject({ code: 200 })
    expect(emu.device(PK, SUB.deviceName)?.online).toBe(false)
    const removed = await answer<SdkReply>('removeTopo', (done) => gw.removeTopo([identity], done))
    expect(removed).toMatchObject({ code: 200 })
  })

  it('registers a pre-registered sub-device and gets its secret (thing.sub.register)', async () => {
    await using emu = await start()
    await using gw = await online(held(iot.gateway({ ...GW, brokerUrl: emu.mqttUrl })) as Held<SdkGateway>)
    const res = await answer<SdkReply>('regiestSubDevice', (done) =>
      gw.regiestSubDevice({ productKey: PK, deviceName: 'node-new' }, done),
    )
    expect(res).toMatchObject({ code: 200, data: [{ productKey: PK, deviceName: 'node-new' }] })
    const [entry] = res.data as Array<{ deviceSecret: string }>
    expect(entry?.deviceSecret).toBe(emu.device(PK, 'node-new')?.deviceSecret)
  })
})

/**
 * Resolves once the emulator has granted `filter`. The SDK reports `connect` and returns from
 * `onService` without waiting for its SUBACKs, so a downlink sent at once could find no subscriber.
 */
function subscribed(emu: Emulator, filter: string): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (granted.get(emu)?.has(filter) !== true) return
      emu.off('client:subscribed', check)
      resolve()
    }
    emu.on('client:subscribed', check)
    check()
  })
}
