/**
 * Runs a broker for benchmarks in a child process, so broker work does not share the event loop
 * with the clients being measured: Mosquitto when installed, else the linkkit emulator.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

export interface BrokerProcess {
  url: string
  httpUrl?: string
  name: string
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/** Starts `Emulator.start(options)` in a child process; options must be JSON (a TSL as a file path). */
export async function startEmulatorProcess(options: Record<string, unknown>): Promise<BrokerProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=development', new URL('./emulator-child.ts', import.meta.url).pathname],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  )
  child.stdin?.end(JSON.stringify(options))
  const { mqttUrl, httpUrl } = JSON.parse(await firstLine(child)) as { mqttUrl: string; httpUrl: string }
  return { ...handle(child, mqttUrl, 'emulator in a child process'), httpUrl }
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! })
    rl.once('line', (line) => resolve(line.trim()))
    child.once('exit', (code) => reject(new Error(`broker exited with ${code}`)))
  })
}

function handle(child: ChildProcess, url: string, name: string): BrokerProcess {
  const close = async () => {
    if (child.exitCode !== null) return
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
  }
  return { url, name, close, [Symbol.asyncDispose]: close }
}
