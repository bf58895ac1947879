import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Emulator } from '@linkkit/emulator'
import { type Device, type FirmwareOffer, type FotaOptions, linkkit } from '../../src/index.js'

export const device = {
  productKey: 'a1TrustLamp1',
  deviceName: 'trust-lamp-1',
  deviceSecret: 'fedcba9876543210fedcba9876543210',
}
export const ref = { productKey: device.productKey, deviceName: device.deviceName }

/** Deterministic image bytes, different per seed. */
export function image(size: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => (i * 31 + seed * 7 + (i >> 8)) & 0xff)
}

/** A signing key pair of the given kind. */
export function keyPair(kind: 'ed25519' | 'ecdsa-p256'): { privateKey: KeyObject; publicKey: KeyObject } {
  return kind === 'ed25519'
    ? generateKeyPairSync('ed25519')
    : generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
}

/** Opens and connects a device on the emulator. */
export async function open(emu: Emulator, firmware: FotaOptions): Promise<Device> {
  return linkkit
    .open({
      ...device,
      brokerUrl: emu.mqttUrl,
      requestTimeoutMs: 3000,
      firmware: { allowHttp: true, ...firmware },
    })
    .connect()
}

/** The next `fota` offer of a device. */
export function nextOffer(d: Device): Promise<FirmwareOffer> {
  return new Promise((resolve) => d.once('fota', resolve))
}

/** Progress entries the emulator received from the device, as `[step, desc]`. */
export function progressOf(emu: Emulator): Array<[number | undefined, string | undefined]> {
  return (emu.device(device.productKey, device.deviceName)?.ota?.progress ?? []).map((p) => [p.step, p.desc])
}

/** Versions the device informed, in order. */
export function informsOf(emu: Emulator): Array<string | undefined> {
  return (emu.device(device.productKey, device.deviceName)?.ota?.informs ?? []).map((i) => i.version)
}

/** A temporary directory removed with `await using`. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await mkdtemp(join(tmpdir(), 'linkkit-trust-'))
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) }
}

/** Polls `probe` until it returns a defined value. */
export async function waitFor<T>(probe: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = probe()
    if (value !== undefined) return value
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Polls an async `probe` until it returns a defined value. */
export async function waitForAsync<T>(probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > until) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** A fake clock for `firmware.clock`: time moves only with `advance()`, which fires the timers due. */
export class FakeClock {
  #now: number
  #timers: Array<{ at: number; callback: () => void }> = []

  constructor(start: number) {
    this.#now = start
  }

  now(): number {
    return this.#now
  }

  setTimer(callback: () => void, ms: number): () => void {
    const timer = { at: this.#now + ms, callback }
    this.#timers.push(timer)
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer)
    }
  }

  /** Timers waiting. */
  get pending(): number {
    return this.#timers.length
  }

  /** Moves time forward and fires every timer due, earliest first. */
  advance(ms: number): void {
    this.#now += ms
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= this.#now).sort((a, b) => a.at - b.at)[0]
      if (due === undefined) return
      this.#timers = this.#timers.filter((t) => t !== due)
      due.callback()
    }
  }
}
