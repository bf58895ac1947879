/**
 * Property post round trips as a device sees them: one post at a time (`await postProperties`),
 * through Mosquitto in its default configuration (Nagle's algorithm on) and through the emulator
 * with its default options, each against raw MQTT.js doing the same request/reply at the same QoS
 * (publish the request, wait for the `_reply` carrying its id). Through Mosquitto the replies come
 * from a responder process (raw MQTT.js) that serves both sides alike. The clients run in a child
 * process on linkkit's built packages (`roundtrip-child.mjs`), alternating blocks of 25 posts;
 * brokers and responder run in processes of their own.
 *
 * The headline: linkkit with default options against raw MQTT.js at QoS 0. At QoS 1 through a
 * broker with Nagle on, the PUBACK and the reply are two small segments and the reply waits for
 * the device's delayed ACK (~40 ms); Alink requests therefore go at QoS 0 by default, as the C SDK
 * sends them.
 */
import { execFile } from 'node:child_process'
import { startEmulatorProcess } from './broker-process.js'
import { findMosquitto, startMosquittoProcess, startResponder } from './mosquitto-process.js'
import { line } from './stats.js'

const productKey = 'a1BenchTrip1'
const devices = [
  { productKey, deviceName: 'bench-raw', deviceSecret: '0123456789abcdef0123456789abcdef' },
  { productKey, deviceName: 'bench-linkkit', deviceSecret: 'fedcba9876543210fedcba9876543210' },
]

function runChild(url: string, qos: 0 | 1, count: number, rounds: number) {
  const child = new URL('./roundtrip-child.mjs', import.meta.url).pathname
  return new Promise<{ baselineMs: number; candidateMs: number }>((resolve, reject) => {
    execFile(
      process.execPath,
      [child, url, String(qos), String(count), String(rounds)],
      { timeout: 600_000 },
      (error, stdout) => {
        if (error) reject(error)
        else
          resolve(
            JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
              baselineMs: number
              candidateMs: number
            },
          )
      },
    )
  })
}

async function measure(where: string, url: string): Promise<string[]> {
  const out: string[] = []
  for (const [qos, count, rounds] of [
    [0, 500, 21],
    [1, 25, 3],
  ] as const) {
    const times = await runChild(url, qos, count, rounds)
    const r = { ...times, ratio: times.candidateMs / times.baselineMs }
    const who = qos === 0 ? 'linkkit defaults' : 'linkkit { qos: 1 }'
    const target = qos === 0 ? '≥ 0.90' : 'reported'
    out.push(line(`${count} sequential posts QoS ${qos}, ${where}`, r, '—'))
    out.push(
      `${`  → throughput ${who} / raw MQTT.js QoS ${qos}`.padEnd(44)} ${(1 / r.ratio).toFixed(3)}  (target ${target}; ${(r.baselineMs / count).toFixed(2)} vs ${(r.candidateMs / count).toFixed(2)} ms a post)`,
    )
  }
  return out
}

/** Round trips through Mosquitto's default configuration and through the emulator (default options). */
export async function roundtripBench(): Promise<string[]> {
  const out: string[] = []
  const bin = findMosquitto()
  if (bin === undefined) {
    out.push('Mosquitto round trips skipped: mosquitto not found (set MOSQUITTO_BIN)')
  } else {
    await using mosquitto = await startMosquittoProcess(bin)
    await using _responder = await startResponder(mosquitto.url)
    out.push(...(await measure('Mosquitto default', mosquitto.url)))
  }
  await using emu = await startEmulatorProcess({ devices })
  out.push(...(await measure('emulator default', emu.url)))
  return out
}
