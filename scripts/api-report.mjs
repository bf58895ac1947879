// The public surface of every published package, as an API report (api-extractor) kept in the
// repo: packages/<name>/api/<entry>.api.md. `npm run api:check` (part of `npm test`) fails when a
// package's surface differs from its report; `npm run api:update` rewrites the reports, so that a
// change of the surface is a visible diff in review.
//
// api-extractor reads declarations: one tsc run emits them for every package's src into a
// temporary folder (nothing is built into dist), then each entry point is checked against its report.
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const update = process.argv.includes('--update')

/** Each published entry point: its package folder, the module it is imported as, and its source. */
const ENTRIES = [
  { pkg: 'core', module: '@linkkit/core', source: 'index' },
  { pkg: 'thing-model', module: '@linkkit/thing-model', source: 'index' },
  { pkg: 'fota', module: '@linkkit/fota', source: 'index' },
  { pkg: 'fota', module: '@linkkit/fota/testing', source: 'testing/persistence-contract', report: 'testing' },
  { pkg: 'gateway', module: '@linkkit/gateway', source: 'index' },
  { pkg: 'fleet', module: '@linkkit/fleet', source: 'index' },
  { pkg: 'sdk', module: '@linkkit/sdk', source: 'index' },
  { pkg: 'cli', module: '@linkkit/cli', source: 'index' },
  { pkg: 'emulator', module: '@linkkit/emulator', source: 'index' },
]

// Inside the repo (.tmp/ is ignored), so that the declarations' own imports (pino, mqtt…) resolve
// from the root's node_modules; at a fixed path, since the reports name the files of warnings.
const tmp = join(ROOT, '.tmp', 'api-report')
rmSync(tmp, { recursive: true, force: true })
mkdirSync(tmp, { recursive: true })
try {
  const dts = join(tmp, 'dts')
  const tsconfig = join(tmp, 'tsconfig.json')
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.json'),
      compilerOptions: {
        noEmit: false,
        emitDeclarationOnly: true,
        declaration: true,
        sourceMap: false,
        rootDir: join(ROOT, 'packages'),
        outDir: dts,
        typeRoots: [join(ROOT, 'node_modules/@types')],
      },
      include: [...new Set(ENTRIES.map((e) => join(ROOT, 'packages', e.pkg, 'src')))],
    }),
  )
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], {
    stdio: 'inherit',
  })

  // A package's imports of the others resolve to their declarations as external packages (so a
  // report shows `import { LinkkitError } from '@linkkit/core'`, not core's own declarations).
  for (const pkg of new Set(ENTRIES.map((e) => e.pkg))) {
    const into = join(tmp, 'node_modules', '@linkkit', pkg)
    cpSync(join(dts, pkg), into, { recursive: true })
    const exports = Object.fromEntries(
      ENTRIES.filter((e) => e.pkg === pkg).map((e) => [
        e.module === `@linkkit/${pkg}` ? '.' : `./${e.module.split('/').pop()}`,
        { types: `./src/${e.source}.d.ts` },
      ]),
    )
    writeFileSync(
      join(into, 'package.json'),
      JSON.stringify({ name: `@linkkit/${pkg}`, type: 'module', exports }),
    )
  }
  const changed = []
  for (const entry of ENTRIES) {
    const reportName = `${entry.report ?? entry.pkg}.api.md`
    const generated = join(tmp, 'reports', entry.pkg)
    mkdirSync(generated, { recursive: true })
    const config = ExtractorConfig.prepare({
      configObject: {
        // The root, so that a report names files relative to it (the same in every checkout).
        projectFolder: ROOT,
        mainEntryPointFilePath: join(dts, entry.pkg, 'src', `${entry.source}.d.ts`),
        compiler: {
          overrideTsconfig: {
            compilerOptions: {
              target: 'ES2022',
              lib: ['ES2023', 'ESNext.Disposable'],
              module: 'NodeNext',
              moduleResolution: 'NodeNext',
              types: ['node'],
              typeRoots: [join(ROOT, 'node_modules/@types')],
              strict: true,
              skipLibCheck: true,
            },
            files: [join(dts, entry.pkg, 'src', `${entry.source}.d.ts`)],
          },
        },
        apiReport: {
          enabled: true,
          reportFileName: reportName,
          reportFolder: generated,
          reportTempFolder: join(tmp, 'reports-temp', entry.pkg),
        },
        docModel: { enabled: false },
        dtsRollup: { enabled: false },
        tsdocMetadata: { enabled: false },
        messages: {
          compilerMessageReporting: { default: { logLevel: 'warning' } },
          extractorMessageReporting: {
            default: { logLevel: 'warning' },
            // Nothing here uses release tags (@public/@beta); the report is the contract.
            'ae-missing-release-tag': { logLevel: 'none' },
            // A type the surface uses but the index does not name is listed in the report.
            'ae-forgotten-export': { logLevel: 'none', addToApiReportFile: true },
            // typedoc (`npm run docs:api`) already fails on undocumented exports and bad links.
            'ae-undocumented': { logLevel: 'none' },
            'ae-unresolved-link': { logLevel: 'none' },
          },
          tsdocMessageReporting: { default: { logLevel: 'none' } },
        },
      },
      configObjectFullPath: undefined,
      packageJsonFullPath: join(ROOT, 'packages', entry.pkg, 'package.json'),
    })
    // Always written into the temporary folder; compared (or copied) below with the repo's path
    // taken out of the file names it mentions, so the report is the same in every checkout.
    const result = Extractor.invoke(config, {
      localBuild: true,
      messageCallback: (message) => {
        // Progress chatter, and the temporary report's own notices: what changed is told below.
        if (
          message.messageId === 'console-compiler-version-notice' ||
          message.messageId.startsWith('console-api-report')
        )
          message.handled = true
      },
    })
    if (!result.succeeded) {
      console.error(`api-extractor failed on ${entry.module}`)
      process.exitCode = 1
      continue
    }
    const report = readFileSync(join(generated, reportName), 'utf8').replaceAll(`${ROOT}/`, '')
    const kept = join(ROOT, 'packages', entry.pkg, 'api', reportName)
    if (existsSync(kept) && readFileSync(kept, 'utf8') === report) continue
    changed.push({ entry, reportName })
    if (update) {
      mkdirSync(dirname(kept), { recursive: true })
      writeFileSync(kept, report)
    }
  }
  if (changed.length > 0 && !update) {
    console.error(
      `The public surface changed without its API report:\n${changed
        .map(({ entry, reportName }) => `  ${entry.module}: packages/${entry.pkg}/api/${reportName}`)
        .join('\n')}\nReview the change, then run \`npm run api:update\` and commit the reports.`,
    )
    process.exitCode = 1
  } else if (changed.length > 0) {
    console.log(`API reports updated: ${changed.map(({ entry }) => entry.module).join(', ')}`)
  } else {
    console.log(`API reports match the public surface of ${ENTRIES.length} entry points.`)
  }
} finally {
  rmSync(tmp, { recursive: true, force: true })
}
