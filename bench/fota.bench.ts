import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { median } from './stats.js'

const MiB = 1024 * 1024

async function serve(size: number): Promise<{ url: string; md5: string; close: () => Promise<void> }> {
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
  const info = JSON.parse(line) as { url: string; md5: string }
  return {
    ...info,
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}

function linkkitRun(
  url: string,
  size: number,
  md5: string,
  path: string,
  fsync = true,
): { ms: number; maxRssMiB: number } {
  const out = execFileSync(
    process.execPath,
    [
      new URL('./fota-download-child.mjs', import.meta.url).pathname,
      url,
      String(size),
      md5,
      path,
      String(fsync),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  )
  return JSON.parse(out.trim().split('\n').pop()!) as { ms: number; maxRssMiB: number }
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

/**
 * Firmware download + digest + FilePersistence through linkkit versus `curl | tee file | md5sum`
 * from the same server in the same run; and linkkit's peak RSS for a 64 MiB and a 512 MiB image.
 */
export async function fotaBench(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'linkkit-bench-'))
  const out: string[] = []
  try {
    const size = 256 * MiB
    const server = await serve(size)
    try {
      for (const durable of [true, false]) {
        const curl: number[] = []
        const ours: number[] = []
        curlRun(server.url, server.md5, join(dir, 'curl.bin'), durable)
        linkkitRun(server.url, size, server.md5, join(dir, 'linkkit.bin'), durable)
        for (let i = 0; i < 5; i++) {
          curl.push(curlRun(server.url, server.md5, join(dir, 'curl.bin'), durable))
          ours.push(linkkitRun(server.url, size, server.md5, join(dir, 'linkkit.bin'), durable).ms)
        }
        const ratio = median(ours) / median(curl)
        const name = durable
          ? '256 MiB → file + MD5, fsync (both sides)'
          : '256 MiB → file + MD5, no fsync (both sides)'
        out.push(
          `${name.padEnd(44)} curl|tee|md5sum ${median(curl).toFixed(0).padStart(6)} ms   linkkit ${median(ours).toFixed(0).padStart(6)} ms   ratio ${ratio.toFixed(3)}  (target ≤ 1.15)`,
        )
      }
    } finally {
      await server.close()
    }
    for (const mib of [64, 512]) {
      const s = await serve(mib * MiB)
      try {
        const r = linkkitRun(s.url, mib * MiB, s.md5, join(dir, `rss-${mib}.bin`))
        out.push(
          `${`peak RSS, ${mib} MiB image`.padEnd(44)} ${r.maxRssMiB.toFixed(0)} MiB  (target ≤ 128 MiB, flat in image size)`,
        )
      } finally {
        await s.close()
        rmSync(join(dir, `rss-${mib}.bin`), { force: true })
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return out
}
