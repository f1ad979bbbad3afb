import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const packages = fileURLToPath(new URL('./packages/', import.meta.url))

export default defineConfig({
  resolve: {
    // Tests run against the TypeScript sources, so no build is needed between edits.
    // The built packages are checked separately by publint and attw (`check:package`).
    alias: [
      { find: /^@sse\/([\w-]+)\/([\w-]+)$/, replacement: `${packages}$1/src/$2.ts` },
      { find: /^@sse\/([\w-]+)$/, replacement: `${packages}$1/src/index.ts` },
    ],
  },
  test: {
    projects: [
      {
        extends: true,
        test: { name: 'core', include: ['packages/core/test/**/*.test.ts'] },
      },
    ],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
})
