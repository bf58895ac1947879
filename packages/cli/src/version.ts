import { readFileSync } from 'node:fs'

/** The version of the `@linkkit/cli` package (src/ and dist/ both sit one level below it). */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  return pkg.version
}
