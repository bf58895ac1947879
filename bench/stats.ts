/** Small statistics helpers for benchmarks that compare a framework run to a baseline run side by side. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - t0) / 1e6
}

/**
 * Runs baseline and candidate alternately `rounds` times (so drift and noise hit both alike) and
 * returns the median time of each and their ratio candidate / baseline.
 */
export async function compare(
  rounds: number,
  baseline: () => Promise<unknown>,
  candidate: () => Promise<unknown>,
): Promise<{ baselineMs: number; candidateMs: number; ratio: number }> {
  const b: number[] = []
  const c: number[] = []
  await baseline()
  await candidate()
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      b.push(await timeIt(baseline))
      c.push(await timeIt(candidate))
    } else {
      c.push(await timeIt(candidate))
      b.push(await timeIt(baseline))
    }
  }
  const baselineMs = median(b)
  const candidateMs = median(c)
  return { baselineMs, candidateMs, ratio: candidateMs / baselineMs }
}

export function line(
  name: string,
  r: { baselineMs: number; candidateMs: number; ratio: number },
  target: string,
): string {
  return `${name.padEnd(44)} baseline ${r.baselineMs.toFixed(1).padStart(8)} ms   linkkit ${r.candidateMs.toFixed(1).padStart(8)} ms   ratio ${r.ratio.toFixed(3)}  (target ${target})`
}
