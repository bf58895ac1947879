import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterAll } from 'vitest'

/**
 * A file handle left open by a test (or by the code under test) is closed by Node when it is
 * garbage collected, with the warning "Closing file descriptor N on garbage collection" (DEP0137).
 * Each test file ends with a full collection, and such a warning fails the file it appears in.
 */
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
const leaks: string[] = []
const state = globalThis as { linkkitWarningListener?: boolean }
if (state.linkkitWarningListener !== true) {
  // Test files share a worker (isolate: false): one listener, whatever the number of files.
  state.linkkitWarningListener = true
  process.on('warning', (warning: Error & { code?: string }) => {
    if (warning.code === 'DEP0137' || /on garbage collection/.test(warning.message)) {
      leaks.push(warning.message)
    }
  })
}

afterAll(async () => {
  gc()
  // The collection closes the handle at once; its warning is emitted on a later tick.
  await new Promise((resolve) => setTimeout(resolve, 20))
  const found = leaks.splice(0)
  if (found.length > 0) {
    throw new Error(`a FileHandle was left open and closed on garbage collection:\n${found.join('\n')}`)
  }
})
