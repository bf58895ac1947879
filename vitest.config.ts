import { defineConfig } from 'vitest/config'

// One root config over every package (as tRPC does). The `development` condition makes each
// workspace package resolve to its TypeScript sources, so tests never need a build first.
export default defineConfig({
  resolve: { conditions: ['development'] },
  ssr: { resolve: { conditions: ['development'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/**/*.test.ts', 'docs/**/*.test.ts'],
    // Fails a test file that leaks a file handle (DEP0137, "closed on garbage collection").
    setupFiles: ['./vitest.setup.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Test files share a worker's module cache instead of re-importing every package per file:
    // the suite runs in about half the time. Each test cleans up what it starts (servers, timers).
    isolate: false,
    reporters: ['default'],
  },
})
