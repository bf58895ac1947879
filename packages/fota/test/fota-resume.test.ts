import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { FotaClient } from '../src/fota-client.js'
import { parseOfferData } from '../src/offer.js'
import { FilePersistence } from '../src/persistence/file.js'
import { MemoryPersistence } from '../src/persistence/memory.js'
import type { FirmwareOffer } from '../src/types.js'
import { firmwareBytes, MiB, offerData } from './helpers/firmware.js'
import { device, type Rig, startRig, steps, waitFor } from './helpers/rig.js'

const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = join(here, '../../..')
const fast = { retry: { limit: 3, baseDelayMs: 5, maxDelayMs: 20 } }

async function offered(rig: Rig, fota: FotaClient, data: Record<string, unknown>): Promise<FirmwareOffer> {
  const offers: FirmwareOffer[] = []
  fota.on('fota', (offer) => offers.push(offer))
  await rig.push(data)
  return waitFor(() => offers[0], 2000, 'the fota event')
}

async function memoryClient(rig: Rig) {
  const persistence = new MemoryPersistence()
  const fota = new FotaClient(rig.connection, {
    version: '1.0.0',
    persistence,
    allowHttp: true,
    download: fast,
  })
  await fota.start()
  return { fota, persistence }
}

describe('FotaClient: interrupted transfers resume with Range', () => {
  it('completes through three connection resets, fetching each byte about once', async () => {
    await using rig = await startRig()
    const data = firmwareBytes(2 * MiB, 31)
    const file = rig.files.addFile({ data })
    // Paced like a real link: an RST discards whatever still sits in the socket buffers, and an
    // unpaced loopback server fills them with ~0.5 MB that no client could have read in time.
    rig.files
      .faultsFor(file.id)
      .throttle(4 * MiB)
      .resetAfter(600_000, 3)
    const { fota, persistence } = await memoryClient(rig)
    await using _ = fota
    const offer = await offered(rig, fota, offerData(file))

    const result = await fota.download(offer)
    expect(Buffer.compare(persistence.bytes() ?? new Uint8Array(), data)).toBe(0)
    const stats = rig.files.stats(file.id)
    expect(stats.requests).toBe(4)
    expect(result.requests).toBe(4)
    expect(stats.ranges[0]).toBe('bytes=0-')
    for (const range of stats.ranges.slice(1)) expect(range).toMatch(/^bytes=[1-9]\d*-$/)
    expect(stats.bytesSent).toBeLessThanOrEqual(1.02 * data.length)
    expect(result.bytesReceived).toBeLessThanOrEqual(1.02 * data.length)
    await waitFor(() => steps(rig.progress).includes('100'), 2000, 'step 100')
    expect(rig.progress.filter((p) => Number(p.step) < 0)).toEqual([])
  })

  it('times out a stalled transfer after idleTimeoutMs, resumes and completes', async () => {
    await using rig = await startRig()
    const data = firmwareBytes(MiB, 32)
    const file = rig.files.addFile({ data })
    rig.files.faultsFor(file.id).stallAfter(300_000)
    const { fota, persistence } = await memoryClient(rig)
    await using _ = fota
    const offer = await offered(rig, fota, offerData(file, { signMethod: 'SHA256' }))

    const started = Date.now()
    const result = await fota.download(offer, { idleTimeoutMs: 250 })
    expect(Date.now() - started).toBeLessThan(3000)
    expect(Buffer.compare(persistence.bytes() ?? new Uint8Array(), data)).toBe(0)
    const { ranges } = rig.files.stats(file.id)
    expect(ranges).toHaveLength(2)
    expect(Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? '')?.[1])).toBeGreaterThan(0)
    expect(result.requests).toBe(2)
    await waitFor(() => steps(rig.progress).includes('100'), 2000, 'step 100')
    expect(rig.progress.filter((p) => Number(p.step) < 0)).toEqual([])
  })

  it('chunkSizeBytes fetches the image as ⌈size/chunk⌉ consecutive ranged requests', async () => {
    await using rig = await startRig()
    const chunk = 256 * 1024
    const data = firmwareBytes(MiB + 1000, 33)
    const file = rig.files.addFile({ data })
    const { fota, persistence } = await memoryClient(rig)
    await using _ = fota
    const offer = await offered(rig, fota, offerData(file))

    const result = await fota.download(offer, { chunkSizeBytes: chunk })
    expect(Buffer.compare(persistence.bytes() ?? new Uint8Array(), data)).toBe(0)
    const count = Math.ceil(data.length / chunk)
    const expected = Array.from(
      { length: count },
      (_, i) => `bytes=${i * chunk}-${Math.min(data.length, (i + 1) * chunk) - 1}`,
    )
    expect(rig.files.stats(file.id).ranges).toEqual(expected)
    expect(result.requests).toBe(count)
    expect(rig.files.stats(file.id).bytesSent).toBe(data.length)
  })
})

describe('FotaClient: a process restart mid-download', () => {
  it('fetches only the remainder after the device process was killed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'linkkit-fota-restart-'))
    try {
      // The device process that dies is the only connection of the device until it is gone.
      await using rig = await startRig({ connect: false })
      const path = join(dir, 'ota.bin')
      const data = firmwareBytes(2 * MiB, 34)
      const file = rig.files.addFile({ data })
      const faults = rig.files.faultsFor(file.id).throttle(2 * MiB)
      const offer = parseOfferData(offerData(file, { version: '2.1.0', signMethod: 'SHA256' }))

      const held = await runChildUntil(
        { brokerUrl: rig.emu.mqttUrl, device, path, offer },
        `${path}.part`,
        Math.floor(0.4 * data.length),
      )
      expect(held).toBeLessThan(data.length)
      // Let the server notice the dead connection before taking the baseline.
      await waitFor(
        () => rig.files.stats(file.id).sending === 0 || undefined,
        3000,
        'the first response to end',
      )
      faults.clear()
      const sentBefore = rig.files.stats(file.id).bytesSent
      await rig.connection.connect()

      await using persistence = new FilePersistence({ path, fsync: false })
      await using again = new FotaClient(rig.connection, {
        version: '1.0.0',
        persistence,
        allowHttp: true,
        download: fast,
      })
      const result = await again.download(offer)
      const sentNow = rig.files.stats(file.id).bytesSent - sentBefore
      expect(result.resumedBytes).toBeGreaterThan(0)
      expect(result.resumedBytes).toBeGreaterThanOrEqual(held)
      expect(sentNow).toBe(data.length - result.resumedBytes)
      expect(sentNow).toBeLessThan(0.7 * data.length)
      expect(rig.files.stats(file.id).ranges.at(-1)).toBe(`bytes=${result.resumedBytes}-`)
      expect(Buffer.compare(await readFile(path), data)).toBe(0)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

/**
 * Runs the device child process until its staging file holds `bytes` bytes on disk (what a
 * crash keeps, whatever the adapter buffers), then kills it with SIGKILL. Returns that size.
 */
async function runChildUntil(input: unknown, partPath: string, bytes: number): Promise<number> {
  const child = spawn(
    process.execPath,
    ['--conditions=development', '--import', 'tsx', join(here, 'helpers/fota-download-child.ts')],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LINKKIT_CHILD: JSON.stringify(input) },
    },
  )
  let output = ''
  child.stdout.on('data', (text: Buffer) => {
    output += text.toString()
  })
  child.stderr.on('data', (text: Buffer) => {
    output += text.toString()
  })
  let exited = false
  const exit = once(child, 'exit').then(() => {
    exited = true
  })
  try {
    const deadline = Date.now() + 15_000
    for (;;) {
      const held = await stat(partPath).then(
        (s) => s.size,
        () => 0,
      )
      if (held >= bytes) return held
      if (exited || Date.now() > deadline) throw new Error(`child stopped at ${held} bytes: ${output}`)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  } finally {
    child.kill('SIGKILL')
    await exit
  }
}
