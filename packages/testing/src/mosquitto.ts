import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Path of the mosquitto binary, or undefined when it is not installed. */
export function findMosquitto(): string | undefined {
  if (process.env.MOSQUITTO_BIN) return process.env.MOSQUITTO_BIN
  for (const candidate of ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto']) {
    try {
      execFileSync(candidate, ['-h'], { stdio: 'ignore' })
      return candidate
    } catch (error) {
      // mosquitto -h exits 3 after printing help: it exists
      if ((error as { status?: number }).status === 3) return candidate
    }
  }
  return undefined
}

/** Mosquitto is required in CI (.ci/run installs it); elsewhere its tests run only when it is installed. */
export const mosquittoRequired = process.env.CI === 'true' || process.env.LINKKIT_MOSQUITTO_URL !== undefined

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A Mosquitto process of the test's own, with persistence so a restart keeps sessions, stoppable and restartable. */
export class MosquittoProcess {
  readonly dir = mkdtempSync(join(tmpdir(), 'linkkit-mosq-'))
  port = 0
  #child: ChildProcess | undefined

  constructor(readonly bin: string) {}

  /** Starts a private Mosquitto; `configure` may add config lines (it gets the private folder). */
  /**
   * Starts Mosquitto in a test that runs only when it is installed or required (`mosquittoRequired`):
   * a missing binary there fails the test with how to install it.
   */
  static startRequired(bin: string | undefined): Promise<MosquittoProcess> {
    if (!bin)
      throw new Error(
        'mosquitto is required here (CI) but was not found; install it with apt-get install mosquitto',
      )
    return MosquittoProcess.start(bin)
  }

  static async start(
    bin: string,
    configure: (dir: string) => string[] = () => ['allow_anonymous true'],
  ): Promise<MosquittoProcess> {
    const m = new MosquittoProcess(bin)
    // Started as root, mosquitto drops to its own user: it must be able to write its persistence file.
    chmodSync(m.dir, 0o777)
    m.port = await freePort()
    writeFileSync(
      join(m.dir, 'mosquitto.conf'),
      [
        `listener ${m.port} 127.0.0.1`,
        ...configure(m.dir),
        'persistence true',
        `persistence_location ${m.dir}/`,
        'max_queued_messages 100000',
        'log_dest none',
      ].join('\n'),
    )
    await m.start()
    return m
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`
  }

  async start(): Promise<void> {
    const child = spawn(this.bin, ['-c', join(this.dir, 'mosquitto.conf')], { stdio: 'ignore' })
    this.#child = child
    const deadline = Date.now() + 5000
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}`)
      if (await canConnect(this.port)) return
      await new Promise((r) => setTimeout(r, 25))
    }
    throw new Error('mosquitto did not start listening')
  }

  /** SIGTERM: mosquitto saves its persistence file and exits. */
  async stop(): Promise<void> {
    const child = this.#child
    this.#child = undefined
    if (!child || child.exitCode !== null) return
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
  }

  async close(): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

async function canConnect(port: number): Promise<boolean> {
  const { connect } = await import('node:net')
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

/** mosquitto_passwd beside the broker (Debian puts it in /usr/bin). */
export function findMosquittoPasswd(): string | undefined {
  for (const candidate of ['/usr/bin/mosquitto_passwd', '/usr/local/bin/mosquitto_passwd']) {
    try {
      execFileSync(candidate, ['-h'], { stdio: 'ignore' })
      return candidate
    } catch (error) {
      if (typeof (error as { status?: number }).status === 'number') return candidate
    }
  }
  return undefined
}
