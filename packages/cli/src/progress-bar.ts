import type { CliStream } from './io.js'

/** A download progress display: one redrawn line on a TTY, a line every 10 % otherwise. */
export interface ProgressBar {
  /** Shows `bytes` of `total` (feed it `fota:progress` events). */
  update(bytes: number, total: number): void
  /** Ends the redrawn line, so the next output starts on its own. */
  done(): void
}

/**
 * A terminal progress bar for firmware downloads, as the CLI's `linkkit device` shows:
 * `device.on('fota:progress', (p) => bar.update(p.bytes, p.total))`.
 */
export function progressBar(out: CliStream, width = 32, now: () => number = Date.now): ProgressBar {
  const started = now()
  let lastTenth = -1
  let drawn = false
  const render = (bytes: number, total: number) => {
    const ratio = total === 0 ? 1 : Math.min(1, bytes / total)
    const filled = Math.round(ratio * width)
    const seconds = Math.max(0.001, (now() - started) / 1000)
    const rate = bytes / 1024 / 1024 / seconds
    const percent = `${(ratio * 100).toFixed(0).padStart(3)}%`
    const amount = `${(bytes / 1024).toFixed(0)} / ${(total / 1024).toFixed(0)} KiB`
    return `  [${'█'.repeat(filled)}${'·'.repeat(width - filled)}] ${percent}  ${amount}  ${rate.toFixed(1)} MiB/s`
  }
  return {
    update(bytes, total) {
      if (out.isTTY === true) {
        out.write(`\r${render(bytes, total)}`)
        drawn = true
        return
      }
      const tenth = Math.floor((bytes * 10) / Math.max(1, total))
      if (tenth !== lastTenth) {
        lastTenth = tenth
        out.write(`${render(bytes, total)}\n`)
      }
    },
    done() {
      if (drawn) out.write('\n')
      drawn = false
      lastTenth = -1
    },
  }
}
