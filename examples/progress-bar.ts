/** A terminal progress bar for downloads: redraws one line on a TTY, prints every 10 % otherwise. */
export interface ProgressBar {
  update(bytes: number, total: number): void
  done(): void
}

export function progressBar(out: NodeJS.WriteStream, width = 32): ProgressBar {
  const started = Date.now()
  let lastTenth = -1
  let drawn = false
  const render = (bytes: number, total: number) => {
    const ratio = total === 0 ? 1 : Math.min(1, bytes / total)
    const filled = Math.round(ratio * width)
    const seconds = Math.max(0.001, (Date.now() - started) / 1000)
    const rate = bytes / 1024 / 1024 / seconds
    return `  [${'█'.repeat(filled)}${'·'.repeat(width - filled)}] ${(ratio * 100).toFixed(0).padStart(3)}%  ${(bytes / 1024).toFixed(0)} / ${(total / 1024).toFixed(0)} KiB  ${rate.toFixed(1)} MiB/s`
  }
  return {
    update(bytes, total) {
      if (out.isTTY) {
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
    },
  }
}
