/**
 * A private Mosquitto in its DEFAULT configuration for benchmarks: the config file holds a
 * loopback listener on a free port and `allow_anonymous true`, nothing else, so every other
 * setting is Mosquitto's default (`set_tcp_nodelay false`: Nagle's algorithm on).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrokerProcess } from './broker-process.js'

/** `MOSQUITTO_BIN`, or the Debian path when it runs; undefined when Mosquitto is not installed. */
export function findMosquitto(): string | undefined {
  for (const candidate of [process.env.MOSQUITTO_BIN, '/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto']) {
    if (!candidate) continue
    try {
      execFileSync(candidate, ['-h'], { stdio: 'ignore' })
      return candidate
    } catch (error) {
      if ((error as { status?: number }).status === 3) return candidate // `-h` prints help and exits 3
    }
  }
  return undefined
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return typeof address === 'object' && address ? address.port : 0
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

/** Starts `mosquitto -c <config>` with the two-line config and resolves once it accepts connections. */
export async function startMosquittoProcess(bin: string): Promise<BrokerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'linkkit-bench-mosq-'))
  const port = await freePort()
  const config = join(dir, 'mosquitto.conf')
  writeFileSync(config, `listener ${port} 127.0.0.1\nallow_anonymous true\n`)
  const child: ChildProcess = spawn(bin, ['-c', config], { stdio: 'ignore' })
  const close = async () => {
    if (child.exitCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      })
    }
    rmSync(dir, { recursive: true, force: true })
  }
  const deadline = Date.now() + 5000
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await close()
      throw new Error(`mosquitto did not start (exit code ${child.exitCode})`)
    }
    await new Promise((r) => setTimeout(r, 25))
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    name: 'Mosquitto (default config)',
    close,
    [Symbol.asyncDispose]: close,
  }
}

/** Starts the Alink responder (`responder-child.mjs`) on `url` and resolves once it is subscribed. */
export async function startResponder(
  url: string,
): Promise<{ close(): Promise<void>; [Symbol.asyncDispose](): Promise<void> }> {
  const child = spawn(process.execPath, [new URL('./responder-child.mjs', import.meta.url).pathname, url], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`responder exited with ${code}`)))
  })
  const close = async () => {
    if (child.exitCode !== null) return
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
  }
  return { close, [Symbol.asyncDispose]: close }
}
