import { runCli } from './cli.js'

/**
 * The `linkkit` process: the first SIGINT or SIGTERM asks the running command to stop cleanly
 * (long-running commands then exit 0), a second one exits at once with 130.
 */
const stop = new AbortController()
const onSignal = () => {
  if (stop.signal.aborted) process.exit(130)
  stop.abort()
}
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: stop.signal,
})
process.off('SIGINT', onSignal)
process.off('SIGTERM', onSignal)
process.exitCode = code
// Keep-alive sockets and the like must not hold a finished command open.
setTimeout(() => process.exit(code), 1000).unref()
