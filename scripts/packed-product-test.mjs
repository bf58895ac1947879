#!/usr/bin/env node
/**
 * The packed-product test (run by .ci/run after `npm test`): packs every published package the way
 * `npm publish` would (prepack builds it), installs the tarballs into fresh projects outside the
 * repository (the @linkkit/* packages only from the tarballs, third-party ones from the npm
 * registry or its cache), and checks there what a user gets:
 *
 * 1. the production install of @linkkit/sdk alone holds no broker (no aedes, no emulator, no CLI);
 *    its package count and size are printed (docs/performance.md records them);
 * 2. a device script upgrades its firmware against the emulator of the packed @linkkit/emulator;
 * 3. the packed `linkkit` bin runs: --help, an unknown option, then emulator + device + ota
 *    add/push/status until the upgrade job succeeds;
 * 4. a TypeScript consumer type-checks under `moduleResolution` `nodenext` and `bundler`, and the
 *    ```ts blocks of the package READMEs type-check against the published types;
 * 5. no source map points at a file the tarball lacks.
 *
 * `node scripts/packed-product-test.mjs [--keep]` (--keep leaves the temp directory for a look).
 */
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const keep = process.argv.includes('--keep')
const PACKAGES = ['core', 'thing-model', 'fota', 'gateway', 'sdk', 'fleet', 'emulator', 'cli']
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const started = Date.now()
const work = mkdtempSync(join(tmpdir(), 'linkkit-packed-'))
const children = new Set()
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL')
  if (!keep) rmSync(work, { recursive: true, force: true })
  else console.log(`packed-product: kept ${work}`)
})

function step(text) {
  console.log(`packed-product: ${text} (${((Date.now() - started) / 1000).toFixed(1)} s)`)
}

function fail(text) {
  throw new Error(text)
}

async function sh(file, args, options = {}) {
  try {
    return await run(file, args, { maxBuffer: 64 * 1024 * 1024, timeout: 300_000, ...options })
  } catch (error) {
    const e = /** @type {{ stdout?: string, stderr?: string, message: string }} */ (error)
    fail(`${file} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`)
  }
}

/** The versions the repository's lockfile installed, so the consumers get the same third-party code. */
function installedVersion(name) {
  return JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version
}

// --- 1. pack ---------------------------------------------------------------------------------
const tarballDir = join(work, 'tarballs')
mkdirSync(tarballDir)
step('packing (prepack builds each package)')
const packed = JSON.parse(
  (
    await sh(
      npm,
      [
        'pack',
        '--json',
        '--pack-destination',
        tarballDir,
        ...PACKAGES.flatMap((p) => ['-w', `packages/${p}`]),
      ],
      { cwd: root },
    )
  ).stdout,
)
const tarballs = Object.fromEntries(packed.map((p) => [p.name, join(tarballDir, p.filename)]))
for (const p of packed) {
  const names = new Set(p.files.map((f) => f.path))
  for (const required of ['package.json', 'LICENSE', 'README.md', 'dist/index.js', 'dist/index.d.ts']) {
    if (!names.has(required)) fail(`${p.name}: the tarball lacks ${required}`)
  }
  if ([...names].some((n) => n.includes('tsbuildinfo') || n.includes('/test/')))
    fail(`${p.name}: the tarball holds build state or tests`)
  // Every source map must point at a file in the same tarball.
  for (const map of [...names].filter((n) => n.endsWith('.map'))) {
    const { sources } = JSON.parse(readFileSync(join(root, 'packages', p.name.split('/')[1], map), 'utf8'))
    for (const source of sources) {
      const target = join(dirname(map), source).replaceAll('\\', '/')
      if (!names.has(target)) fail(`${p.name}: ${map} points at ${source}, which the tarball lacks`)
    }
  }
}
step(`packed ${packed.map((p) => `${p.filename} (${p.entryCount} files, ${p.size} B)`).join(', ')}`)

/** package.json of a consumer: the given @linkkit packages from tarballs, and every one overridden. */
function consumerManifest(direct, extra = {}) {
  const file = (name) => `file:${tarballs[name]}`
  return {
    name: 'linkkit-consumer',
    private: true,
    type: 'module',
    dependencies: Object.fromEntries(direct.map((name) => [name, file(name)])),
    ...extra,
    overrides: Object.fromEntries(Object.keys(tarballs).map((name) => [name, file(name)])),
  }
}

async function install(dir, extraArgs = []) {
  await sh(
    npm,
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...extraArgs],
    {
      cwd: dir,
    },
  )
}

// --- 2. the facade's production install ------------------------------------------------------
const sdkOnly = join(work, 'sdk-only')
mkdirSync(sdkOnly)
writeFileSync(join(sdkOnly, 'package.json'), JSON.stringify(consumerManifest(['@linkkit/sdk']), null, 2))
step('installing @linkkit/sdk alone (production)')
await install(sdkOnly, ['--omit=dev'])
const tree = (await sh(npm, ['ls', '--all', '--omit=dev', '--parseable'], { cwd: sdkOnly })).stdout
  .trim()
  .split('\n')
  .slice(1)
const installed = [...new Set(tree.map((path) => path.replace(/^.*node_modules[\\/]/, '')))]
for (const banned of ['aedes', '@linkkit/emulator', '@linkkit/cli', 'vitest', 'tsx', 'typescript']) {
  if (installed.includes(banned)) fail(`the production install of @linkkit/sdk holds ${banned}`)
}
const kib = async (...flags) =>
  Number((await sh('du', ['-sk', ...flags, join(sdkOnly, 'node_modules')])).stdout.split(/\s/)[0])
const mb = (k) => +((k * 1024) / 1e6).toFixed(1)
const figures = {
  packages: installed.length,
  diskMB: mb(await kib()),
  filesMB: mb(await kib('--apparent-size')),
}
step(
  `@linkkit/sdk production install: ${figures.packages} packages, ${figures.diskMB} MB on disk (${figures.filesMB} MB of files); no aedes, no emulator`,
)
console.log(`packed-product: sdk-tree ${JSON.stringify({ ...figures, installed: installed.sort() })}`)

// --- 3. a consumer of every package ----------------------------------------------------------
const app = join(work, 'app')
mkdirSync(app)
writeFileSync(
  join(app, 'package.json'),
  JSON.stringify(
    consumerManifest(Object.keys(tarballs), {
      devDependencies: {
        typescript: installedVersion('typescript'),
        '@types/node': installedVersion('@types/node'),
      },
    }),
    null,
    2,
  ),
)
step('installing every package into a fresh project')
await install(app)

// A device upgrades against the packed emulator.
writeFileSync(
  join(app, 'upgrade.mjs'),
  `import { randomBytes } from 'node:crypto'
import { Emulator } from '@linkkit/emulator'
import { linkkit, MemoryPersistence } from '@linkkit/sdk'

const lamp = { productKey: 'a1LampDemo01', deviceName: 'lamp-0001', deviceSecret: randomBytes(16).toString('hex') }
const emu = await Emulator.start({ products: [{ productKey: lamp.productKey }], devices: [lamp] })
const persistence = new MemoryPersistence()
const open = (version) =>
  linkkit.open({ ...lamp, brokerUrl: emu.mqttUrl, firmware: { version, persistence, allowHttp: true } })
const device = open('1.0.0')
const downloaded = new Promise((resolve, reject) =>
  device.on('fota', (offer) => device.fota.download(offer).then(resolve, reject)),
)
await device.connect()
const image = randomBytes(300_000)
const firmware = await emu.ota.addFirmware({ productKey: lamp.productKey, version: '1.1.0', data: image, signMethod: 'SHA256' })
const job = await emu.ota.push({ ...lamp, firmware })
await downloaded
await device.close()
const rebooted = open('1.1.0') // the new firmware informs its version
await rebooted.connect()
const done = await emu.ota.waitForJob(job.id, 'succeeded', 20_000)
await rebooted.close()
await emu.close()
console.log('upgraded', done.status, emu.device(lamp.productKey, lamp.deviceName)?.version)
`,
)
step('device upgrade against the packed emulator')
const upgrade = await sh(process.execPath, ['upgrade.mjs'], { cwd: app, timeout: 60_000 })
if (!upgrade.stdout.includes('upgraded succeeded 1.1.0')) fail(`upgrade.mjs printed: ${upgrade.stdout}`)

// The packed bin.
const bin = join(app, 'node_modules', '.bin', 'linkkit')
step('linkkit --help and an unknown option')
const help = await sh(bin, ['--help'], { cwd: app })
if (!/^linkkit 0\.\d+\.\d+/.test(help.stdout)) fail(`linkkit --help printed: ${help.stdout}`)
const unknown = await run(bin, ['--verbose'], { cwd: app }).then(
  () => fail('linkkit --verbose exited 0'),
  (error) => error,
)
if (unknown.code !== 2 || !unknown.stderr.includes('unknown option --verbose'))
  fail(`linkkit --verbose: exit ${unknown.code}, stderr ${unknown.stderr}`)

/** Starts a long-running command and resolves with its first JSON line of the given event. */
async function startJson(args, env, event) {
  const child = spawn(bin, args, {
    cwd: app,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  const lines = createInterface({ input: child.stdout })
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  try {
    for await (const line of lines) {
      const parsed = line.startsWith('{') ? JSON.parse(line) : undefined
      if (parsed?.event === event) return { child, first: parsed, lines }
    }
    fail(`linkkit ${args[0]} ended before "${event}": ${stderr}`)
  } finally {
    clearTimeout(timer)
  }
}

async function stop(child) {
  if (child.exitCode !== null) return child.exitCode
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const [code] = await exited
  children.delete(child)
  return code
}

step('linkkit emulator + linkkit device + linkkit ota add/push/status')
writeFileSync(
  join(app, 'devices.json'),
  JSON.stringify({
    products: [{ productKey: 'a1LampDemo01' }],
    devices: [{ productKey: 'a1LampDemo01', deviceName: 'lamp-0001', deviceSecret: 'lamp-secret-0001' }],
  }),
)
writeFileSync(join(app, 'fw.bin'), Buffer.alloc(200_000, 7))
const env = { LINKKIT_CONTROL_TOKEN: 'packed-product-test-token', LINKKIT_DEVICE_SECRET: 'lamp-secret-0001' }
const emulator = await startJson(
  ['emulator', '--config', 'devices.json', '--mqtt-port', '0', '--http-port', '0', '--json'],
  env,
  'started',
)
const { mqttUrl, httpUrl } = emulator.first
const device = await startJson(
  [
    'device',
    '--product',
    'a1LampDemo01',
    '--device',
    'lamp-0001',
    '--broker',
    mqttUrl,
    '--allow-http',
    '--json',
  ],
  env,
  'connected',
)
const ota = async (args) =>
  JSON.parse(
    (
      await sh(bin, ['ota', ...args, '--emulator', httpUrl, '--json'], {
        cwd: app,
        env: { ...process.env, ...env },
      })
    ).stdout,
  )
const firmware = await ota(['add', '--product', 'a1LampDemo01', '--version', '1.1.0', '--file', 'fw.bin'])
const job = await ota([
  'push',
  '--product',
  'a1LampDemo01',
  '--device',
  'lamp-0001',
  '--firmware',
  firmware.id,
])
const status = await ota(['status', '--job', job.id, '--wait', 'succeeded', '--timeout', '60000'])
if (status.status !== 'succeeded') fail(`job ${job.id}: ${JSON.stringify(status)}`)
if ((await stop(device.child)) !== 0) fail('linkkit device did not exit 0 on SIGTERM')
if ((await stop(emulator.child)) !== 0) fail('linkkit emulator did not exit 0 on SIGTERM')

// --- 4. TypeScript consumers -----------------------------------------------------------------
step('tsc: moduleResolution nodenext and bundler, and the package READMEs')
writeFileSync(
  join(app, 'consumer.ts'),
  `import { type CliIo, runCli } from '@linkkit/cli'
import { Connection, LinkkitError } from '@linkkit/core'
import { Emulator } from '@linkkit/emulator'
import { FotaClient, MemoryPersistence } from '@linkkit/fota'
import { SubDevice } from '@linkkit/gateway'
import { type Device, type LinkkitOptions, linkkit, type FirmwareOffer } from '@linkkit/sdk'
import { ThingClient } from '@linkkit/thing-model'

const options: LinkkitOptions = {
  productKey: 'a1LampDemo01',
  deviceName: 'lamp-0001',
  deviceSecret: process.env.LINKKIT_DEVICE_SECRET ?? '',
  brokerUrl: 'mqtt://127.0.0.1:1883',
  firmware: { version: '1.0.0', persistence: new MemoryPersistence() },
}
const device: Device = linkkit.open(options)
device.on('fota', (offer: FirmwareOffer) => {
  device.fota.download(offer).catch((error: unknown) => {
    if (error instanceof LinkkitError) console.error(error.code)
  })
})
const io: CliIo | undefined = undefined
export const used = [Connection, Emulator, FotaClient, SubDevice, ThingClient, runCli, io]
// @ts-expect-error a typo is a type error: the published types are real, not any
device.postPropertiez({ LightSwitch: 1 })
`,
)
const readmeBlocks = PACKAGES.flatMap((p) => {
  const text = readFileSync(join(root, 'packages', p, 'README.md'), 'utf8')
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i) => ({
    name: `readme-${p}-${i}.ts`,
    code: m[1],
  }))
})
for (const block of readmeBlocks) writeFileSync(join(app, block.name), `${block.code}export {}\n`)
const files = ['consumer.ts', ...readmeBlocks.map((b) => b.name)]
const common = { target: 'ES2022', types: ['node'], strict: true, noEmit: true }
// The usual Node project skips checking .d.ts files; the bundler one checks every declaration file,
// ours included (with DOM, which MQTT.js's own declarations need).
const configs = {
  'tsconfig.nodenext.json': {
    ...common,
    lib: ['ES2023', 'ESNext.Disposable'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    skipLibCheck: true,
  },
  'tsconfig.bundler.json': {
    ...common,
    lib: ['ES2023', 'ESNext.Disposable', 'DOM'],
    module: 'ESNext',
    moduleResolution: 'Bundler',
    skipLibCheck: false,
  },
}
for (const [name, compilerOptions] of Object.entries(configs)) {
  writeFileSync(join(app, name), JSON.stringify({ compilerOptions, files }, null, 2))
  await sh(process.execPath, [join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', name], {
    cwd: app,
  })
}
step(`done: ${readmeBlocks.length} README blocks and a consumer type-check under nodenext and bundler`)

console.log('packed-product: ok')
