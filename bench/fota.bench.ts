import { execFileSync, spawn } from 'node:child_process'
import { generateKeyPairSync, sign } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { median } from './stats.js'

const MiB = 1024 * 1024
const ROUNDS = 5

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
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
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

/** What a Node child reports; `wallMs` is measured from outside: process start, imports, download, exit. */
interface ChildRun {
  wallMs: number
  /** Time after the imports, measured inside the child. */
  ms: number
  peakRssMiB: number
  tapMs?: number
  verifyMs?: number
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

interface LinkkitJob {
  url: string
  size: number
  signMethod: 'Md5' | 'SHA256'
  digest: string
  path: string
  fsync: boolean
  tap?: 'sha256' | 'verify'
  signature?: string
  publicKey?: string
  hashCpu?: boolean
}

/** linkkit's FOTA path (performFota into FilePersistence) on the built packages, in a child process. */
function linkkitRun(job: LinkkitJob): ChildRun {
  return nodeChild('./fota-download-child.mjs', job)
}

/** The second baseline: http.get + MD5 + a file write stream (flushed to disk with fsync) in plain Node. */
function plainRun(server: Served, path: string, fsync: boolean): ChildRun {
  return nodeChild('./plain-download-child.mjs', { url: server.url, digest: server.md5, path, fsync })
}

/** The baseline; with `sync`, it flushes the file to disk as FilePersistence does before its atomic rename. */
function curlRun(url: string, md5: string, path: string, sync = true): number {
  const t0 = performance.now()
  const script = `curl -sf "$0" | tee "$1" | md5sum${sync ? ' && sync "$1"' : ''}`
  const out = execFileSync('bash', ['-o', 'pipefail', '-c', script, url, path], { encoding: 'utf8' })
  const ms = performance.now() - t0
  if (!out.startsWith(md5)) throw new Error(`curl baseline digest mismatch: ${out}`)
  return ms
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

/** Runs each of `runs` once per round, the order rotating every round, after one warm-up round. */
function alternate<T extends Record<string, () => number | ChildRun>>(
  runs: T,
  rounds: number,
): { [K in keyof T]: ReturnType<T[K]>[] } {
  const names = Object.keys(runs) as (keyof T)[]
  const out = Object.fromEntries(names.map((n) => [n, []])) as unknown as {
    [K in keyof T]: ReturnType<T[K]>[]
  }
  for (const name of names) runs[name]!()
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length]!
      out[name].push(runs[name]!() as ReturnType<T[typeof name]>)
    }
  }
  return out
}

const ms = (value: number) => `${value.toFixed(0).padStart(5)} ms`
const med = (runs: ChildRun[], key: keyof ChildRun) => median(runs.map((r) => r[key] ?? 0))

/**
 * Firmware download + digest + FilePersistence through linkkit versus `curl | tee file | md5sum`
 * and a plain Node downloader from the same server in the same run, alternating; the cost of
 * signature verification; and peak RSS for a 64 MiB and a 512 MiB image.
 */
export async function fotaBench(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'linkkit-bench-'))
  const out: string[] = []
  const file = (name: string) => join(dir, name)
  try {
    const size = 256 * MiB
    const server = await serve(size)
    try {
      for (const durable of [true, false]) {
        const job: LinkkitJob = {
          url: server.url,
          size,
          signMethod: 'Md5',
          digest: server.md5,
          path: file('linkkit.bin'),
          fsync: durable,
        }
        const r = alternate(
          {
            curl: () => curlRun(server.url, server.md5, file('curl.bin'), durable),
            plain: () => plainRun(server, file('plain.bin'), durable),
            linkkit: () => linkkitRun(job),
          },
          ROUNDS,
        )
        const curl = median(r.curl)
        const linkkit = med(r.linkkit, 'wallMs')
        const plain = med(r.plain, 'wallMs')
        out.push(
          `256 MiB → file + MD5, ${durable ? 'fsync (all sides)   ' : 'no fsync (all sides)'}  curl|tee|md5sum ${ms(curl)}   node http.get ${ms(plain)}   linkkit ${ms(linkkit)} (${ms(med(r.linkkit, 'ms'))} after its imports)`,
          `${' '.repeat(44)}ratio linkkit/curl ${(linkkit / curl).toFixed(3)} (target ≤ 1.10)   linkkit/node ${(linkkit / plain).toFixed(3)}   after imports/curl ${(med(r.linkkit, 'ms') / curl).toFixed(3)}`,
        )
      }
      out.push(...verificationCost(server, file('verify.bin')))
    } finally {
      await server.close()
    }
    const floor = importOnlyRssMiB()
    for (const mib of [64, 512]) {
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
          { plain: () => plainRun(s, file(`rss-plain-${mib}.bin`), true), linkkit: () => linkkitRun(job) },
          2,
        )
        const peak = (runs: ChildRun[]) => Math.max(...runs.map((x) => x.peakRssMiB)).toFixed(0)
        out.push(
          `${`peak RSS, ${mib} MiB image`.padEnd(44)} linkkit ${peak(r.linkkit)} MiB (target ≤ 96; loading @linkkit/fota alone: ${floor.toFixed(0)} MiB)   node http.get ${peak(r.plain)} MiB`,
        )
      } finally {
        await s.close()
        rmSync(file(`rss-${mib}.bin`), { force: true })
        rmSync(file(`rss-plain-${mib}.bin`), { force: true })
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return out
}

/**
 * What verification costs, all runs with fsync: an MD5 offer as is; a SHA256 offer whose digest is
 * also the signed message (one Ed25519 verify added); an MD5 offer plus a streaming SHA-256 of the
 * image and that verify (what a signature adds to an MD5 offer). Plus the CPU time MD5 and SHA-256
 * take over the image's bytes, as a share of the download.
 */
function verificationCost(server: Served, path: string): string[] {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const signature = sign(null, Buffer.from(server.sha256, 'hex'), privateKey).toString('base64')
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
  const base = { url: server.url, size: server.size, path, fsync: true, signature, publicKey: pem }
  const md5 = { ...base, signMethod: 'Md5' as const, digest: server.md5 }
  const r = alternate(
    {
      md5: () => linkkitRun(md5),
      sha256Signed: () => linkkitRun({ ...base, signMethod: 'SHA256', digest: server.sha256, tap: 'verify' }),
      md5Signed: () => linkkitRun({ ...md5, tap: 'sha256' }),
    },
    ROUNDS,
  )
  const cpu = linkkitRun({ ...md5, hashCpu: true })
  const plain = med(r.md5, 'ms')
  const pct = (value: number) => `${((value / plain) * 100).toFixed(1)} %`
  return [
    `verification, 256 MiB, fsync (time after imports)  MD5 offer ${ms(plain)}   SHA256 offer + Ed25519 verify ${ms(med(r.sha256Signed, 'ms'))} (ratio ${(med(r.sha256Signed, 'ms') / plain).toFixed(3)}, verify ${med(r.sha256Signed, 'verifyMs').toFixed(2)} ms)   MD5 offer + SHA-256 + verify ${ms(med(r.md5Signed, 'ms'))} (ratio ${(med(r.md5Signed, 'ms') / plain).toFixed(3)})`,
    `${' '.repeat(44)}CPU over 256 MiB: MD5 ${ms(cpu.md5CpuMs ?? 0)} (${pct(cpu.md5CpuMs ?? 0)} of the download)   SHA-256 ${ms(cpu.sha256CpuMs ?? 0)} (${pct(cpu.sha256CpuMs ?? 0)})   SHA-256 tap measured in the run ${ms(med(r.md5Signed, 'tapMs'))}   target ≤ 2 %`,
  ]
}
