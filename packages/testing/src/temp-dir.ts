import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A fresh directory below the OS's temporary one. */
export interface TempDir extends AsyncDisposable {
  /** Its absolute path. */
  readonly path: string
}

/** Makes a fresh directory named `<prefix>XXXXXX`; `await using` removes it with everything in it. */
export async function tempDir(prefix: string): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix))
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) }
}
