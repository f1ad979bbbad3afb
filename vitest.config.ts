import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // Vitest's default on a 2-core machine is one file at a time, and most files here wait on
    // sockets and timers rather than compute: two at a time took the run from 1,280 to 952 s.
    // The reliability project still runs alone, one file at a time, after the rest.
    maxWorkers: 2,
    // Each package and example has its own project (vitest.config.ts built on vitest.shared.ts).
    projects: [
      'packages/*/vitest.config.ts',
      'examples/*/vitest.config.ts',
      'bench/vitest.config.ts',
      'reliability/vitest.config.ts',
    ],
  },
})
