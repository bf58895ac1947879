import { execFileSync, spawn } from 'node:child_process'
import { generateKeyPairSync, sign } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { median } from './stats.js'

const MiB = 1024 * 1024
/** Rounds of the download comparison (after one warm-up round); `LINKKIT_BENCH_FOTA_ROUNDS` overrides. */
const ROUNDS = Number(process.env.LINKKIT_BENCH_FOTA_ROUNDS ?? 5)
/** Image of the download comparison; `LINKKIT_BENCH_FOTA_MIB` overrides (the figure is 256). */
const SIZE_MIB = Number(process.env.LINKKIT_BENCH_FOTA_MIB ?? 256)
/** Images whose peak RSS is measured; `LINKKIT_BENCH_FOTA_RSS_MIB=64` skips the 512 MiB one. */
const RSS_MIB = (process.env.LINKKIT_BENCH_FOTA_RSS_MIB ?? '64,512').split(',').map(Number)
const RSS_ROUNDS = 3

interface Served {
  url: string
  size: number
  md5: string
  sha256: string
  close: () => Promise<void>
}

async function serve(size: number): Promise<Served> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=development',
      new URL('./firmware-server-child.ts', import.meta.url).pathname,
      String(size),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve)
    child.once('exit', (code) => reject(new Error(`firmware server exited with ${code}`)))
  })
  const info = JSON.parse(line) as Omit<Served, 'close'>
  return {
    ...info,
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}

/** What a child reports; `wallMs` is measured from outside: process start, imports, download, exit. */
interface ChildRun {
  wallMs: number
  /** Time after the imports, measured inside the child. */
  ms: number
  /** CPU time (user + system) of the whole child process. */
  cpuMs: number
  peakRssMiB: number
  /** Busy time of the child's main thread (event loop utilization) after the imports. */
  activeMs?: number
  /** On-CPU time of the child's main thread after the imports (its scheduler statistics). */
  mainCpuMs?: number
  /** Of `tapMs`: the time spent awaiting the tap (a full segment table, the last digest). */
  tapWaitMs?: number
  /** The main thread's context switches during the download (preempted: taken off its core). */
  mainSwitches?: { voluntary: number; preempted: number }
  /** What the tap's worker was fed: bytes hashed in place in the ring, bytes copied, ring waits. */
  digestCounts?: { inPlaceBytes: number; copiedBytes: number; ringWaits: number; ringWaitMs: number }
  /** From fota-digest-child: the main thread's CPU for the second digest, on its worker and inline, beyond the ring alone's (`ringCpuMs`). */
  ringCpuMs?: number
  workerCpuMs?: number
  inlineCpuMs?: number
  tapMs?: number
  ed25519Ms?: number
  p256Ms?: number
  md5CpuMs?: number
  sha256CpuMs?: number
}

function nodeChild(script: string, job: object): ChildRun {
  const t0 = performance.now()
  const out = execFileSync(
    process.execPath,
    [new URL(script, import.meta.url).pathname, JSON.stringify(job)],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  )
  const wallMs = performance.now() - t0
  return { wallMs, ...(JSON.parse(out.trim().split('\n').pop()!) as Omit<ChildRun, 'wallMs'>) }
}

interface SignedDigest {
  algorithm: 'ed25519' | 'ecdsa-p256'
  publicKey: string
  signature: string
}

interface LinkkitJob {
  url: string
  size: number
  signMethod: 'Md5' | 'SHA256'
  digest: string
  path: string
  fsync: boolean
  /** The image's SHA-256, hex (the signed message). */
  sha256?: string
  /** `verify`: a signed SHA256 offer; `sha256`: a signed MD5 offer (SHA-256 on the tap's worker); `sha256-main`: SHA-256 on the main thread, as before the worker. */
  tap?: 'sha256' | 'verify' | 'sha256-main'
  keys?: { ed25519: SignedDigest; p256: SignedDigest }
  withMqtt?: boolean
  hashCpu?: boolean
}

/** linkkit's FOTA path (performFota into FilePersistence) on the built packages, in a child process. */
function linkkitRun(job: LinkkitJob): ChildRun {
  return nodeChild('./fota-download-child.mjs', job)
}

/** The second baseline: http.get + MD5 + a file write stream (flushed to disk with fsync) in plain Node. */
function plainRun(server: Served, path: string): ChildRun {
  return nodeChild('./plain-download-child.mjs', { url: server.url, digest: server.md5, path, fsync: true })
}

/** The baseline: the pipeline, then the file flushed to disk as FilePersistence does before its rename. */
function curlRun(server: Served, path: string): ChildRun {
  const t0 = performance.now()
  const script = 'curl -sf "$0" | tee "$1" | md5sum && sync "$1"'
  const out = execFileSync('bash', ['-o', 'pipefail', '-c', script, server.url, path], { encoding: 'utf8' })
  const wallMs = performance.now() - t0
  if (!out.startsWith(server.md5)) throw new Error(`curl baseline digest mismatch: ${out}`)
  return { wallMs, ms: wallMs, cpuMs: Number.NaN, peakRssMiB: Number.NaN }
}

/** Peak RSS of a process that only loads `@linkkit/fota` (the floor under every linkkit figure). */
function importOnlyRssMiB(): number {
  const script =
    "import '@linkkit/fota'; import { readFileSync } from 'node:fs'; console.log(/VmHWM:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1] / 1024)"
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: new URL('.', import.meta.url).pathname,
    encoding: 'utf8',
  })
  return Number(out.trim())
}

/** Runs each of `runs` once per round, the order rotating every round, after an optional warm-up round. */
function alternate<K extends string>(
  runs: Record<K, () => ChildRun>,
  rounds: number,
  warmUp = true,
): Record<K, ChildRun[]> {
  const names = Object.keys(runs) as K[]
  const out = Object.fromEntries(names.map((n) => [n, []])) as unknown as Record<K, ChildRun[]>
  if (warmUp) for (const name of names) runs[name]()
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length]!
      out[name].push(runs[name]())
    }
  }
  return out
}

type Key = Exclude<keyof ChildRun, 'digestCounts' | 'mainSwitches'>
const values = (runs: ChildRun[], key: Key) => runs.map((r) => r[key] ?? 0)
const med = (runs: ChildRun[], key: Key) => median(values(runs, key))
/** `median (min–max)` of one figure over the rounds. */
function spread(runs: ChildRun[], key: Key, digits = 0, unit = ' ms'): string {
  const v = values(runs, key)
  const f = (x: number) => x.toFixed(digits)
  return `${f(median(v))}${unit} (${f(Math.min(...v))}–${f(Math.max(...v))})`
}
/** The per-round ratio of `a` to `b` (same round, so the same machine state), as `median (min–max)`. */
function ratios(a: ChildRun[], b: ChildRun[], key: Key): string {
  const r = a.map((x, i) => (x[key] ?? 0) / (b[i]?.[key] ?? Number.NaN))
  return `${median(r).toFixed(3)} (${Math.min(...r).toFixed(3)}–${Math.max(...r).toFixed(3)})`
}

function signedDigests(sha256: string): { ed25519: SignedDigest; p256: SignedDigest } {
  const digest = Buffer.from(sha256, 'hex')
  const pem = (key: ReturnType<typeof generateKeyPairSync>['publicKey']) =>
    key.export({ type: 'spki', format: 'pem' }).toString()
  const ed = generateKeyPairSync('ed25519')
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  return {
    ed25519: {
      algorithm: 'ed25519',
      publicKey: pem(ed.publicKey),
      signature: sign(null, digest, ed.privateKey).toString('base64'),
    },
    p256: {
      algorithm: 'ecdsa-p256',
      publicKey: pem(ec.publicKey),
      signature: sign('sha256', digest, ec.privateKey).toString('base64'),
    },
  }
}

/**
 * Firmware download + digest + FilePersistence with fsync through linkkit versus
 * `curl | tee file | md5sum && sync file` and a plain Node downloader from the same server in the
 * same run, alternating; what signature verification costs; and peak RSS for a 64 MiB and a
 * 512 MiB image against the plain Node downloader.
 */
export async function fotaBench(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'linkkit-bench-'))
  const out: string[] = []
  const file = (name: string) => join(dir, name)
  try {
    const server = await serve(SIZE_MIB * MiB)
    try {
      out.push(...downloadComparison(server, file))
    } finally {
      await server.close()
    }
    out.push(...(await peakRss(file)))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return out
}

function downloadComparison(server: Served, file: (name: string) => string): string[] {
  const keys = signedDigests(server.sha256)
  const base = { url: server.url, size: server.size, fsync: true, keys, sha256: server.sha256 }
  const md5 = { ...base, signMethod: 'Md5' as const, digest: server.md5 }
  const r = alternate(
    {
      curl: () => curlRun(server, file('curl.bin')),
      plain: () => plainRun(server, file('plain.bin')),
      linkkit: () => linkkitRun({ ...md5, path: file('linkkit.bin') }),
      sha256Signed: () =>
        linkkitRun({
          ...base,
          signMethod: 'SHA256',
          digest: server.sha256,
          tap: 'verify',
          path: file('sha256.bin'),
        }),
      md5Signed: () => linkkitRun({ ...md5, tap: 'sha256', path: file('md5-signed.bin') }),
      md5MainThread: () => linkkitRun({ ...md5, tap: 'sha256-main', path: file('md5-main.bin') }),
    },
    ROUNDS,
  )
  const cpu = linkkitRun({ ...md5, path: file('cpu.bin'), hashCpu: true })
  const digestRuns = Array.from({ length: ROUNDS }, () =>
    nodeChild('./fota-digest-child.mjs', { size: server.size }),
  )
  for (const name of [
    'curl.bin',
    'plain.bin',
    'linkkit.bin',
    'sha256.bin',
    'md5-signed.bin',
    'md5-main.bin',
    'cpu.bin',
  ]) {
    rmSync(file(name), { force: true })
  }
  const pct = (value: number, of: number) => `${((value / of) * 100).toFixed(2)} %`
  const signedMs = med(r.sha256Signed, 'ms')
  const md5SignedMs = med(r.md5Signed, 'ms')
  const verifyShare = (runs: ChildRun[]) =>
    runs.map((x) => ((x.tapMs ?? 0) + (x.ed25519Ms ?? 0) + (x.p256Ms ?? 0)) / x.ms)
  const share = (runs: ChildRun[]) => {
    const v = verifyShare(runs)
    return `${(median(v) * 100).toFixed(2)} % (${(Math.min(...v) * 100).toFixed(2)}–${(Math.max(...v) * 100).toFixed(2)})`
  }
  const pad = ' '.repeat(4)
  return [
    `${SIZE_MIB} MiB → FilePersistence + MD5, fsync on every side; median (min–max) of ${ROUNDS} alternating rounds, wall time from process start to exit:`,
    `${pad}curl|tee|md5sum && sync ${spread(r.curl, 'wallMs')}   node http.get ${spread(r.plain, 'wallMs')}   linkkit ${spread(r.linkkit, 'wallMs')}`,
    `${pad}ratio linkkit/curl ${ratios(r.linkkit, r.curl, 'wallMs')} (target ≤ 1.10)   linkkit/node ${ratios(r.linkkit, r.plain, 'wallMs')}`,
    `${pad}signature check included, ratio to curl: signed SHA256 offer ${ratios(r.sha256Signed, r.curl, 'wallMs')}   signed MD5 offer (worker) ${ratios(r.md5Signed, r.curl, 'wallMs')} (target ≤ 1.10)`,
    `${pad}CPU (user+sys) node http.get ${spread(r.plain, 'cpuMs')}   linkkit ${spread(r.linkkit, 'cpuMs')}   ratio ${ratios(r.linkkit, r.plain, 'cpuMs')}`,
    `verification (signed message = SHA-256 digest; one Ed25519 and one ECDSA P-256 verify, each ${med(r.sha256Signed, 'ed25519Ms').toFixed(2)} / ${med(r.sha256Signed, 'p256Ms').toFixed(2)} ms):`,
    `${pad}SHA256 offer: digest + both verifies ${share(r.sha256Signed)} of its download (target ≤ 2 %); download ${signedMs.toFixed(0)} ms vs MD5 offer ${med(r.linkkit, 'ms').toFixed(0)} ms after imports`,
    `${pad}MD5 offer, SHA-256 on the tap's worker: what the tap's update and verify cost the download's thread + both verifies ${share(r.md5Signed)} of its download; download ${md5SignedMs.toFixed(0)} ms`,
    `${pad}${pad}wall ratio to the unsigned MD5 run ${ratios(r.md5Signed, r.linkkit, 'wallMs')}   main-thread CPU ${spread(r.md5Signed, 'mainCpuMs')} vs unsigned ${spread(r.linkkit, 'mainCpuMs')}, ratio ${ratios(r.md5Signed, r.linkkit, 'mainCpuMs')}   process CPU ratio ${ratios(r.md5Signed, r.linkkit, 'cpuMs')}`,
    `${pad}${pad}of the tap's time, waits for the worker ${spread(r.md5Signed, 'tapWaitMs', 1)} (a worker short of CPU shows here); per download, hashed in place ${countsOf(r.md5Signed, 'inPlaceBytes', MiB)} MiB, copied ${countsOf(r.md5Signed, 'copiedBytes', MiB)} MiB, the ring waited for the worker ${countsOf(r.md5Signed, 'ringWaits', 1)} times, ${countsOf(r.md5Signed, 'ringWaitMs', 1)} ms in all; the main thread preempted ${r.md5Signed.map((x) => x.mainSwitches?.preempted ?? 0).join(', ')} times (unsigned: ${r.linkkit.map((x) => x.mainSwitches?.preempted ?? 0).join(', ')})`,
    `${pad}MD5 offer, SHA-256 on the main thread (before): ${share(r.md5MainThread)} of its download; wall ratio to the unsigned MD5 run ${ratios(r.md5MainThread, r.linkkit, 'wallMs')}   main-thread CPU ${spread(r.md5MainThread, 'mainCpuMs')}, ratio ${ratios(r.md5MainThread, r.linkkit, 'mainCpuMs')}`,
    `${pad}the second digest alone, ${SIZE_MIB} MiB through a body ring as fast as it takes them (${ROUNDS} runs), the main thread's own CPU beyond the ring alone's (${spread(digestRuns, 'ringCpuMs')}): on the worker, in place ${spread(digestRuns, 'workerCpuMs')}, inline ${spread(digestRuns, 'inlineCpuMs')}; of the unsigned download's ${med(r.linkkit, 'ms').toFixed(0)} ms: ${pct(med(digestRuns, 'workerCpuMs'), med(r.linkkit, 'ms'))} vs ${pct(med(digestRuns, 'inlineCpuMs'), med(r.linkkit, 'ms'))}`,
    `${pad}CPU over ${SIZE_MIB} MiB in 64 KiB updates: MD5 ${(cpu.md5CpuMs ?? 0).toFixed(0)} ms (${pct(cpu.md5CpuMs ?? 0, cpu.ms)} of a download)   SHA-256 ${(cpu.sha256CpuMs ?? 0).toFixed(0)} ms (${pct(cpu.sha256CpuMs ?? 0, cpu.ms)})`,
  ]
}

/** Each run's digest worker count, divided by `unit`, as a list. */
function countsOf(
  runs: ChildRun[],
  field: 'inPlaceBytes' | 'copiedBytes' | 'ringWaits' | 'ringWaitMs',
  unit: number,
): string {
  return runs.map((x) => ((x.digestCounts?.[field] ?? 0) / unit).toFixed(unit === 1 ? 0 : 1)).join(', ')
}

async function peakRss(file: (name: string) => string): Promise<string[]> {
  const out = [
    `peak RSS (VmHWM), median (min–max) of ${RSS_ROUNDS} alternating runs; loading @linkkit/fota alone: ${importOnlyRssMiB().toFixed(1)} MiB`,
  ]
  for (const mib of RSS_MIB) {
    const s = await serve(mib * MiB)
    try {
      const job: LinkkitJob = {
        url: s.url,
        size: s.size,
        signMethod: 'Md5',
        digest: s.md5,
        path: file(`rss-${mib}.bin`),
        fsync: true,
      }
      const r = alternate(
        {
          plain: () => plainRun(s, file(`rss-plain-${mib}.bin`)),
          linkkit: () => linkkitRun(job),
          device: () => linkkitRun({ ...job, withMqtt: true }),
          signed: () =>
            linkkitRun({
              ...job,
              tap: 'sha256',
              keys: signedDigests(s.sha256),
              sha256: s.sha256,
              path: file(`rss-signed-${mib}.bin`),
            }),
        },
        RSS_ROUNDS,
        false,
      )
      out.push(
        `    ${mib} MiB image: linkkit ${spread(r.linkkit, 'peakRssMiB', 1, ' MiB')} (target ≤ 96)   signed MD5 offer (SHA-256 worker) ${spread(r.signed, 'peakRssMiB', 1, ' MiB')}   node http.get ${spread(r.plain, 'peakRssMiB', 1, ' MiB')}   linkkit with MQTT.js loaded (a connected device) ${spread(r.device, 'peakRssMiB', 1, ' MiB')}`,
      )
    } finally {
      await s.close()
      for (const name of [`rss-${mib}.bin`, `rss-plain-${mib}.bin`, `rss-signed-${mib}.bin`])
        rmSync(file(name), { force: true })
    }
  }
  return out
}
