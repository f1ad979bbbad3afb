import { fileURLToPath } from 'node:url'
import { defineProject, type ViteUserConfig } from 'vitest/config'

const packages = fileURLToPath(new URL('./packages/', import.meta.url))

/**
 * The base of every package's vitest project. Tests run against the TypeScript sources of
 * `@sse/*`, so no build is needed between edits; the built packages are checked separately by
 * publint and attw (`check:package`).
 */
export function sseProject(name: string, overrides: NonNullable<ViteUserConfig['test']> = {}) {
  return defineProject({
    resolve: {
      alias: [
        { find: /^@sse\/([\w-]+)\/([\w-]+)$/, replacement: `${packages}$1/src/$2.ts` },
        { find: /^@sse\/([\w-]+)$/, replacement: `${packages}$1/src/index.ts` },
      ],
    },
    test: {
      name,
      include: ['test/**/*.test.ts'],
      testTimeout: 20_000,
      hookTimeout: 20_000,
      ...overrides,
    },
  })
}
