import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Path of redis-server (`REDIS_SERVER_BIN`, else the Debian paths), or undefined when it is not installed. */
export function findRedisServer(): string | undefined {
  if (process.env.REDIS_SERVER_BIN) return process.env.REDIS_SERVER_BIN
  for (const candidate of [
    '/usr/bin/redis-server',
    '/usr/local/bin/redis-server',
    '/usr/sbin/redis-server',
  ]) {
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  return undefined
}

/** Redis is required in CI (.ci/run installs it and sets REDIS_SERVER_BIN): there its tests never skip. */
export const redisRequired = process.env.CI === 'true' || process.env.REDIS_SERVER_BIN !== undefined

/**
 * Why Redis tests are skipped on this machine, or undefined when redis-server is there (or
 * required: then a missing one fails the tests instead).
 */
export const redisMissing: string | undefined =
  findRedisServer() === undefined && !redisRequired
    ? 'redis-server is not installed (apt-get install redis-server, or set REDIS_SERVER_BIN); .ci/run installs it'
    : undefined

/** A free loopback port: redis-server cannot listen on port 0 and report the port it got. */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/**
 * A redis-server of the test's own: loopback only, a private folder, no persistence. Closed with
 * `await using`. A port taken between choosing it and binding it is retried with another one.
 */
export class RedisProcess {
  readonly dir = mkdtempSync(join(tmpdir(), 'linkkit-redis-'))
  port = 0
  #child: ChildProcess | undefined

  private constructor(readonly bin: string) {}

  /** Starts a private redis-server; rejects when it is not installed or does not come up. */
  static async start(bin = findRedisServer()): Promise<RedisProcess> {
    if (bin === undefined) throw new Error(redisMissing)
    const redis = new RedisProcess(bin)
    let lastError: unknown
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await redis.#spawn(await freePort())
        return redis
      } catch (error) {
        lastError = error
      }
    }
    await redis.close()
    throw lastError
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  async #spawn(port: number): Promise<void> {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      'no',
    ]
    const child = spawn(this.bin, args, { stdio: 'ignore' })
    this.#child = child
    this.port = port
    const deadline = Date.now() + 5000
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`)
      if (await canConnect(port)) return
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    child.kill('SIGKILL')
    throw new Error('redis-server did not start listening')
  }

  /** Stops the server and removes its folder. */
  async close(): Promise<void> {
    const child = this.#child
    this.#child = undefined
    if (child !== undefined && child.exitCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      })
    }
    rmSync(this.dir, { recursive: true, force: true })
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}
