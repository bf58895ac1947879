import type { MqttClient } from 'mqtt'
import type { Emulator, EmulatorClock } from '../src/index.js'
import { client, credentials, DN, nextMessage, PK } from './helpers.js'

export const UPGRADE = `/ota/device/upgrade/${PK}/${DN}`
export const INFORM = `/ota/device/inform/${PK}/${DN}`
export const PROGRESS = `/ota/device/progress/${PK}/${DN}`
export const REQUEST = `/ota/device/request/${PK}/${DN}`
export const FIRMWARE_GET = `/sys/${PK}/${DN}/thing/ota/firmware/get`

export function image(size: number, seed = 7): Uint8Array {
  const data = new Uint8Array(size)
  for (let i = 0; i < size; i++) data[i] = (i * seed + (i >> 8)) & 0xff
  return data
}

const logs = new WeakMap<MqttClient, string[]>()

/**
 * The device as a real MQTT.js client, connected; `ss` connects with `_ss=1` (no SUBSCRIBE
 * needed, as 4.x). Every topic it receives from the first packet on is in `topicsOf(c)`.
 */
export async function device(emu: Emulator, options: { ss?: boolean } = {}): Promise<MqttClient> {
  const c = client(emu.mqttUrl, credentials(options.ss === true ? { params: { _ss: '1' } } : {}))
  const topics: string[] = []
  logs.set(c, topics)
  c.on('message', (topic) => topics.push(topic))
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve())
    c.once('close', () => reject(new Error('closed before CONNACK')))
  })
  return c
}

/** Topics a client made by `device()` received since it was created. */
export function topicsOf(c: MqttClient): string[] {
  return logs.get(c) ?? []
}

/** Resolves with the parsed JSON of the next message on `topic`. */
export async function nextJson(c: MqttClient, topic: string): Promise<Record<string, unknown>> {
  const { payload } = await nextMessage(c, topic)
  return JSON.parse(payload.toString('utf8')) as Record<string, unknown>
}

/** Publishes at QoS 1 (acknowledged once the emulator handled it). */
export async function send(c: MqttClient, topic: string, body: unknown): Promise<void> {
  await c.publishAsync(topic, typeof body === 'string' ? body : JSON.stringify(body), { qos: 1 })
}

/** Resolves once the emulator has seen `n` progress messages (valid or not) from the device. */
export function progressCount(emu: Emulator, n: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if ((emu.device(PK, DN)?.ota?.progress.length ?? 0) < n) return
      emu.ota.off('ota:progress', check)
      resolve()
    }
    emu.ota.on('ota:progress', check)
    check()
  })
}

/** Resolves once the emulator has seen `n` version informs (valid or not) from the device. */
export function informCount(emu: Emulator, n: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if ((emu.device(PK, DN)?.ota?.informs.length ?? 0) < n) return
      emu.ota.off('ota:inform', check)
      resolve()
    }
    emu.ota.on('ota:inform', check)
    check()
  })
}

/** A clock that moves only when told to: upgrade timeouts run without waiting. */
export class FakeClock implements EmulatorClock {
  #now = Date.UTC(2026, 0, 1)
  readonly #timers = new Set<{ at: number; callback: () => void }>()

  now(): number {
    return this.#now
  }

  setTimer(callback: () => void, ms: number): () => void {
    const timer = { at: this.#now + ms, callback }
    this.#timers.add(timer)
    return () => this.#timers.delete(timer)
  }

  /** Pending timers. */
  get pending(): number {
    return this.#timers.size
  }

  /** Moves time on by `ms`, running each timer that comes due, in order. */
  advance(ms: number): void {
    const end = this.#now + ms
    for (;;) {
      const due = [...this.#timers].filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0]
      if (due === undefined) break
      this.#timers.delete(due)
      this.#now = due.at
      due.callback()
    }
    this.#now = end
  }
}
