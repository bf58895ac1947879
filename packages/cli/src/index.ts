/**
 * The `linkkit` command (`npx linkkit --help`): the local platform emulator, simulated devices and
 * OTA jobs from a shell. `runCli` runs one command line in-process; `progressBar` is the download
 * display of `linkkit device`, for scripts of your own.
 *
 * @packageDocumentation
 * @module @linkkit/cli
 */
export { runCli } from './cli.js'
export type { CliIo, CliStream } from './io.js'
export { type ProgressBar, progressBar } from './progress-bar.js'
