#!/usr/bin/env node
// The `linkkit` command. An installed package runs dist/main.js (it ships src/ too, for its source
// maps, but never its tsconfig.json). In a checkout of the repository, src/ is run through tsx with
// the workspace's `development` condition, so the command never runs a stale build and needs none.
import { existsSync } from 'node:fs'
import { register } from 'node:module'

const source = new URL('../src/main.ts', import.meta.url)
const checkout = new URL('../tsconfig.json', import.meta.url)
const built = new URL('../dist/main.js', import.meta.url)

// Adds the `development` export condition, so workspace packages resolve to their TypeScript sources.
const developmentCondition =
  'data:text/javascript,export async function resolve(specifier, context, next) {' +
  ' return next(specifier, { ...context, conditions: [...context.conditions, "development"] }) }'

async function tsx() {
  try {
    return await import('tsx/esm/api')
  } catch {
    return undefined
  }
}

const api = existsSync(checkout) && existsSync(source) ? await tsx() : undefined
if (api !== undefined) {
  api.register()
  // Hooks registered later run first: this one hands tsx's resolver the extra condition.
  register(developmentCondition)
  await import(source.href)
} else if (existsSync(built)) {
  await import(built.href)
} else {
  process.stderr.write('linkkit: neither dist/main.js (run `npm run build`) nor tsx to run src/ was found\n')
  process.exitCode = 1
}
