import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Emulator } from '@linkkit/emulator'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'

/**
 * The README's Usage snippet and its `linkkit` block run as written, each in a directory of the
 * checkout (so `@linkkit/*` resolve as in a user's script there: to the built `dist/`, no
 * `--conditions=development`). The only change made to the text: the CLI block's ports 1883 and
 * 8080 become free ones, as network tests never take fixed ports.
 */
const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx'
const children = new Set<ChildProcess>()

/** The first fenced block of `lang` after the heading `title`. */
function blockAfter(title: string, lang: string): string {
  const at = readme.indexOf(`\n## ${title}\n`)
  if (at < 0) throw new Error(`README.md has no section "${title}"`)
  const open = readme.indexOf(`\n\`\`\`${lang}\n`, at)
  const end = readme.indexOf('\n```\n', open + 1)
  if (open < 0 || end < 0) throw new Error(`README.md section "${title}" has no ${lang} block`)
  return readme.slice(open + lang.length + 5, end + 1)
}

function workDir(name: string): string {
  const dir = join(root, '.tmp', name)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(join(dir, 'examples'), { recursive: true })
  for (const file of ['lamp.tsl.json', 'devices.json'])
    copyFileSync(join(root, 'examples', file), join(dir, 'examples', file))
  return dir
}

/** A long-running command with its output collected; killed (its whole process group) after the test. */
function start(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  const output = { stdout: '', stderr: '' }
  child.stdout?.on('data', (chunk: Buffer) => {
    output.stdout += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    output.stderr += chunk.toString()
  })
  return { child, output }
}

async function waitFor(what: string, predicate: () => boolean, child: ChildProcess, timeout = 90_000) {
  await vi.waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode} before ${what}`)
      if (!predicate()) throw new Error(`no ${what} yet`)
    },
    { timeout, interval: 50 },
  )
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

/** Environment without the variables the blocks set themselves. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _, ...inherited } = process.env
  return { ...inherited, FORCE_COLOR: '0', ...extra }
}

afterEach(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      const exited = once(child, 'exit')
      process.kill(-child.pid, 'SIGTERM')
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))])
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL')
    }
  }
  children.clear()
})

beforeAll(async () => {
  // `npm ci` builds the packages (the root `prepare`); this brings `dist/` up to date with the sources.
  await run(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', ...buildRoots()],
    {
      cwd: root,
      timeout: 240_000,
    },
  )
}, 250_000)

function buildRoots(): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { build: string } }
  return pkg.scripts.build.replace(/^tsc -b /, '').split(' ')
}

describe('README.md', () => {
  it('the Usage snippet runs with `npx tsx my-device.ts`, survives a failed download and stores a good one', async () => {
    const snippet = blockAfter('Usage', 'ts')
    expect(readme).toContain('npx tsx my-device.ts')
    expect(snippet).toContain('.catch(')
    expect(snippet).toContain('process.env.LINKKIT_DEVICE_SECRET')
    const dir = workDir('readme-usage')
    writeFileSync(join(dir, 'my-device.ts'), snippet)
    const lamp = {
      productKey: 'a1LampDemo01',
      deviceName: 'lamp-0001',
      deviceSecret: randomBytes(8).toString('hex'),
    }
    await using emu = await Emulator.start({
      products: [{ productKey: lamp.productKey, thingModel: join(root, 'examples', 'lamp.tsl.json') }],
      devices: [lamp],
    })
    const env = cleanEnv({ LINKKIT_DEVICE_SECRET: lamp.deviceSecret, LINKKIT_BROKER_URL: emu.mqttUrl })
    const device = start(npx, ['tsx', 'my-device.ts'], dir, env)
    await waitFor(
      'the connected line',
      () => device.output.stdout.includes('waiting for firmware offers'),
      device.child,
    )
    expect(emu.device(lamp.productKey, lamp.deviceName)?.properties?.LightSwitch?.value).toBe(1)

    // A download that fails its digest check: the snippet's .catch reports it, the process stays up.
    emu.faults.firmware.corruptByte(1000)
    const bad = await emu.ota.addFirmware({
      productKey: lamp.productKey,
      version: '1.0.1',
      data: randomBytes(50_000),
    })
    const failedJob = await emu.ota.push({ ...lamp, firmware: bad })
    await waitFor(
      'the upgrade failed line',
      () => device.output.stderr.includes('upgrade failed: ERR_'),
      device.child,
    )
    expect((await emu.ota.waitForJob(failedJob.id, 'failed', 20_000)).status).toBe('failed')

    // A good one lands in ./firmware.bin.
    const image = randomBytes(200_000)
    const good = await emu.ota.addFirmware({ productKey: lamp.productKey, version: '1.1.0', data: image })
    await emu.ota.push({ ...lamp, firmware: good })
    const stored = join(dir, 'firmware.bin')
    const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex')
    await waitFor(
      'firmware.bin',
      () => existsSync(stored) && sha(readFileSync(stored)) === sha(image),
      device.child,
      60_000,
    )
    expect(device.child.exitCode).toBe(null)
    expect(device.output.stderr).not.toMatch(/Unhandled|ERR_HTTP_NOT_ALLOWED/)
    expect(device.output.stdout + device.output.stderr).not.toContain(lamp.deviceSecret)
  }, 240_000)

  it('the `linkkit` block runs as written: emulator, device, ota add, push and status --wait succeeded', async () => {
    const block = blockAfter('The `linkkit` command', 'sh')
    expect(block).not.toContain('--secret')
    const [mqttPort, httpPort] = [await freePort(), await freePort()]
    const lines = block
      .replace(/\\\n\s*/g, '')
      .split('\n')
      .map((line) => line.replace(/\s+#\s.*$/, '').trim())
      .filter((line) => line !== '')
      .map((line) => line.replaceAll(':1883', `:${mqttPort}`).replaceAll(':8080', `:${httpPort}`))
      .map((line) => line.replace('--mqtt-port 1883', `--mqtt-port ${mqttPort}`))
      .map((line) => line.replace('--http-port 8080', `--http-port ${httpPort}`))
    expect(lines.length).toBeGreaterThanOrEqual(7)
    const dir = workDir('readme-cli')
    const env = cleanEnv({ LINKKIT_DEVICE_SECRET: '', LINKKIT_CONTROL_TOKEN: '' })
    // Each `&` line must print this before the next line runs (what a user waits for).
    const ready: Array<[RegExp, RegExp]> = [
      [/linkkit emulator/, /Press Ctrl-C to stop/],
      [/linkkit device/, /connected to mqtt:/],
    ]
    const background: Array<ReturnType<typeof start>> = []
    for (const line of lines) {
      const exported = /^export ([A-Z_]+)=(.*)$/.exec(line)
      if (exported) {
        const { stdout } = await run('bash', ['-c', `${line}\nprintf %s "$${exported[1]}"`], {
          cwd: dir,
          env,
        })
        env[exported[1] ?? ''] = stdout
        continue
      }
      if (line.endsWith('&')) {
        const started = start('bash', ['-c', line.slice(0, -1).trim()], dir, env)
        background.push(started)
        const wanted = ready.find(([command]) => command.test(line))?.[1]
        if (wanted === undefined) throw new Error(`no readiness line known for: ${line}`)
        await waitFor(
          `"${wanted.source}" from ${line}`,
          () => wanted.test(started.output.stdout),
          started.child,
        )
        continue
      }
      const result = await run('bash', ['-c', line], { cwd: dir, env, timeout: 120_000 }).catch(
        (error: { code?: number; stdout?: string; stderr?: string }) => error,
      )
      const code = 'code' in result ? result.code : 0
      expect({ line, code, stderr: result.stderr }).toMatchObject({ line, code: 0 })
    }
    expect(env.LINKKIT_CONTROL_TOKEN).toMatch(/^[0-9a-f-]{36}$/)
    const device = background[1]?.output.stdout ?? ''
    expect(device).toMatch(/rebooting into firmware 1\.1\.0/)
    expect(device).toMatch(/firmware 1\.1\.0/)
    const printed = background.map((b) => b.output.stdout + b.output.stderr).join('')
    expect(printed).not.toContain('lamp-secret-0001')
  }, 300_000)
})
