import type { ServerResponse } from 'node:http'
import type { ArmedFault, FirmwareFaults } from './firmware-faults.js'
import type { StoredFirmware } from './firmware-store.js'

/** Bytes written per `res.write`: the image goes out as views of this size, never copied whole. */
const SLICE_BYTES = 64 * 1024

export interface BodyJob {
  res: ServerResponse
  file: StoredFirmware
  /** Faults for every file, applied together with the file's own. */
  global: FirmwareFaults
  /** First and last (inclusive) served byte. */
  start: number
  end: number
  /** Aborted when the server shuts down: wakes any stall or pacing wait. */
  closing: AbortSignal
}

/**
 * Writes bytes `start..end` of the served file to `res`, honouring backpressure and the armed
 * faults: stalls and cuts fire at exact body positions (slices are split there), corruption flips
 * one byte in a copy of the slice that holds it, throttling paces slices of 1/20 s.
 */
export async function sendBody(job: BodyJob): Promise<void> {
  const { res, file, start, end, closing } = job
  const local = file.faults.armed()
  const global = job.global.armed()
  const cuts = [...local.cuts, ...global.cuts].sort(byPosition)
  const stalls = [...local.stalls, ...global.stalls].sort(byPosition)
  const corruptions = [...local.corruptions, ...global.corruptions].filter(
    (c) => c.spec >= start && c.spec <= end,
  )
  const bytesPerSecond = file.faults.bytesPerSecond ?? job.global.bytesPerSecond
  const length = end - start + 1
  let sent = 0
  for (;;) {
    for (let stall = stalls[0]; stall !== undefined && stall.spec.afterBytes <= sent; stall = stalls[0]) {
      stalls.shift()
      if (stall.spec.afterBytes === sent && stall.fire()) await pause(res, stall.spec.ms, closing)
    }
    if (res.destroyed || closing.aborted) return
    for (let cut = cuts[0]; cut !== undefined && cut.spec.afterBytes <= sent; cut = cuts[0]) {
      cuts.shift()
      if (cut.spec.afterBytes === sent && cut.fire()) {
        if (cut.spec.kind === 'reset') res.socket?.resetAndDestroy()
        else res.socket?.destroySoon()
        return
      }
    }
    if (sent >= length) break
    const boundary = Math.min(cuts[0]?.spec.afterBytes ?? length, stalls[0]?.spec.afterBytes ?? length)
    const paced = bytesPerSecond === undefined ? SLICE_BYTES : Math.max(1, Math.floor(bytesPerSecond / 20))
    const view = file.slice(start + sent, Math.min(SLICE_BYTES, paced, boundary - sent))
    const chunk = corrupt(view, start + sent, corruptions)
    sent += chunk.length
    file.stats.bytesSent += chunk.length
    // Before a cut the bytes must have reached the kernel, so the client sees exactly `afterBytes`.
    if (cuts[0]?.spec.afterBytes === sent) await flushed(res, chunk)
    else if (!res.write(chunk)) await drained(res)
    if (bytesPerSecond !== undefined) await pause(res, (chunk.length * 1000) / bytesPerSecond, closing)
  }
  res.end()
}

function byPosition<T extends { afterBytes: number }>(a: ArmedFault<T>, b: ArmedFault<T>): number {
  return a.spec.afterBytes - b.spec.afterBytes
}

function corrupt(chunk: Uint8Array, offset: number, corruptions: ArmedFault<number>[]): Uint8Array {
  let out = chunk
  for (const fault of corruptions) {
    const at = fault.spec - offset
    if (at < 0 || at >= chunk.length || !fault.fire()) continue
    if (out === chunk) out = Uint8Array.from(chunk)
    out[at] = (out[at] ?? 0) ^ 0xff
  }
  return out
}

/** Waits `ms` (forever when infinite) unless the response closes or the server shuts down first. */
function pause(res: ServerResponse, ms: number, closing: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer)
      res.off('close', done)
      closing.removeEventListener('abort', done)
      resolve()
    }
    const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined
    res.once('close', done)
    closing.addEventListener('abort', done, { once: true })
  })
}

function flushed(res: ServerResponse, chunk: Uint8Array): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off('close', done)
      resolve()
    }
    res.once('close', done)
    res.write(chunk, done)
  })
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.once('drain', done)
    res.once('close', done)
  })
}
