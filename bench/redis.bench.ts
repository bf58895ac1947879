/**
 * Scale-out bench (`npm run bench -- redis`): two emulator nodes on one Redis against one node in
 * memory, with the same raw MQTT.js devices. Connects per second (CONNECT to CONNACK, 50 at a time,
 * devices spread over the nodes) and property-post round trips per second (each device posts and
 * waits for the reply, 16 devices at once). Rounds alternate between the two setups; the figures
 * are medians and the ratios Redis / memory. Needs redis-server (REDIS_SERVER_BIN or /usr/bin).
 */
import { Emulator } from '@linkkit/emulator'
import { RedisProcess, redisMissing } from '@linkkit/testing/redis'
import mqtt, { type MqttClient } from 'mqtt'
import { rawOptions } from './raw-options.js'
import { median } from './stats.js'

const PK = 'a1BenchRedis'
const DEVICES = 400
const CONNECT_CONCURRENCY = 50
const POSTERS = 16
const POSTS_EACH = 100
const ROUNDS = 5
const devices = Array.from({ length: DEVICES }, (_, i) => ({
  productKey: PK,
  deviceName: `dev-${String(i).padStart(4, '0')}`,
  deviceSecret: `redis-bench-${i}`.padEnd(32, '0'),
}))

interface Setup {
  name: string
  nodes: Emulator[]
  close(): Promise<void>
}

async function memorySetup(): Promise<Setup> {
  const emu = await Emulator.start({ devices, noDelay: true })
  return { name: 'memory', nodes: [emu], close: () => emu.close() }
}

async function redisSetup(url: string, round: number): Promise<Setup> {
  const shared = { redisUrl: url, redisPrefix: `bench-${round}`, noDelay: true }
  const a = await Emulator.start({ ...shared, devices })
  const b = await Emulator.start(shared)
  return {
    name: 'redis',
    nodes: [a, b],
    close: async () => {
      await a.close()
      await b.close()
    },
  }
}

function connectOne(url: string, i: number): Promise<MqttClient> {
  const d = devices[i] as (typeof devices)[number]
  const c = mqtt.connect(url, rawOptions(d.productKey, d.deviceName, d.deviceSecret))
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c))
    c.once('error', reject)
  })
}

/** Connects every device (50 at a time), devices alternating over the nodes; connects per second. */
async function connects(setup: Setup): Promise<{ perSecond: number; clients: MqttClient[] }> {
  const clients: MqttClient[] = []
  let next = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: CONNECT_CONCURRENCY }, async () => {
      while (next < DEVICES) {
        const i = next++
        const node = setup.nodes[i % setup.nodes.length] as Emulator
        clients[i] = await connectOne(node.mqttUrl, i)
      }
    }),
  )
  return { perSecond: (DEVICES * 1000) / (performance.now() - t0), clients }
}

/** POSTERS devices each post POSTS_EACH properties one after the other; round trips per second. */
async function roundTrips(clients: MqttClient[]): Promise<number> {
  const posters = clients.slice(0, POSTERS)
  await Promise.all(
    posters.map((c, i) =>
      c.subscribeAsync(`/sys/${PK}/${devices[i]?.deviceName}/thing/event/property/post_reply`),
    ),
  )
  const t0 = performance.now()
  await Promise.all(
    posters.map(async (c, i) => {
      const topic = `/sys/${PK}/${devices[i]?.deviceName}/thing/event/property/post`
      for (let n = 0; n < POSTS_EACH; n++) {
        const replied = new Promise<void>((resolve) => c.once('message', () => resolve()))
        c.publish(
          topic,
          JSON.stringify({
            id: String(n),
            version: '1.0',
            params: { temperature: n },
            method: 'thing.event.property.post',
          }),
        )
        await replied
      }
    }),
  )
  return (POSTERS * POSTS_EACH * 1000) / (performance.now() - t0)
}

async function round(setup: Setup): Promise<{ connects: number; roundTrips: number }> {
  try {
    const { perSecond, clients } = await connects(setup)
    const rt = await roundTrips(clients)
    await Promise.all(clients.map((c) => c.endAsync(true)))
    return { connects: perSecond, roundTrips: rt }
  } finally {
    await setup.close()
  }
}

export async function redisBench(): Promise<string[]> {
  if (redisMissing !== undefined) return [`scale-out on Redis: skipped (${redisMissing})`]
  const redis = await RedisProcess.start()
  try {
    const memory: Array<{ connects: number; roundTrips: number }> = []
    const onRedis: Array<{ connects: number; roundTrips: number }> = []
    for (let i = 0; i < ROUNDS; i++) {
      memory.push(await round(await memorySetup()))
      onRedis.push(await round(await redisSetup(redis.url, i)))
    }
    const m = { c: median(memory.map((r) => r.connects)), r: median(memory.map((r) => r.roundTrips)) }
    const x = { c: median(onRedis.map((r) => r.connects)), r: median(onRedis.map((r) => r.roundTrips)) }
    return [
      `scale-out, ${DEVICES} devices (${CONNECT_CONCURRENCY} connecting at a time), medians of ${ROUNDS} alternating rounds`,
      `  connects/s: one node in memory ${m.c.toFixed(0)}, two nodes on Redis ${x.c.toFixed(0)}  ratio ${(x.c / m.c).toFixed(2)}`,
      `  round trips/s (${POSTERS} devices × ${POSTS_EACH} posts, one at a time each): memory ${m.r.toFixed(0)}, Redis ${x.r.toFixed(0)}  ratio ${(x.r / m.r).toFixed(2)}`,
    ]
  } finally {
    await redis.close()
  }
}
