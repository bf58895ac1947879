import { describe, expect, it } from 'vitest'
import { progressBar } from '../src/progress-bar.js'

function stream(isTTY: boolean) {
  const writes: string[] = []
  return { writes, out: { isTTY, write: (text: string) => writes.push(text) } }
}

describe('download progress bar', () => {
  it('redraws one line on a TTY and ends it when done', () => {
    const { writes, out } = stream(true)
    let now = 0
    const bar = progressBar(out, 10, () => now)
    now = 1000
    bar.update(512 * 1024, 1024 * 1024)
    bar.update(1024 * 1024, 1024 * 1024)
    bar.done()
    expect(writes).toEqual([
      '\r  [█████·····]  50%  512 / 1024 KiB  0.5 MiB/s',
      '\r  [██████████] 100%  1024 / 1024 KiB  1.0 MiB/s',
      '\n',
    ])
  })

  it('prints a plain line per 10 % elsewhere (logs, pipes)', () => {
    const { writes, out } = stream(false)
    const bar = progressBar(out, 4, () => 0)
    for (let bytes = 0; bytes <= 100; bytes += 5) bar.update(bytes, 100)
    bar.done()
    expect(writes).toHaveLength(11)
    expect(writes.every((line) => line.endsWith('\n') && !line.startsWith('\r'))).toBe(true)
    expect(writes.at(-1)).toMatch(/^ {2}\[████\] 100% {2}0 \/ 0 KiB/)
  })
})
