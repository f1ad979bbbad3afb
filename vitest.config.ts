import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // Each package and example has its own project (vitest.config.ts built on vitest.shared.ts).
    projects: [
      'packages/*/vitest.config.ts',
      'examples/*/vitest.config.ts',
      'bench/vitest.config.ts',
      'reliability/vitest.config.ts',
    ],
  },
})
