import { defineConfig, type UserConfig } from 'tsdown'

/**
 * How every published package builds: ESM and CJS with their own `.d.mts` / `.d.cts` types
 * (fixed extensions, so both resolve under every `moduleResolution`), for Node 20.
 */
export function libraryConfig(overrides: UserConfig = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    fixedExtension: true,
    dts: true,
    platform: 'node',
    target: 'node20',
    clean: true,
    outputOptions: {
      // Shared chunks export their bindings under their own names, so declaration files and
      // editor hovers say `Hub`, not a one-letter alias.
      minifyInternalExports: false,
      // TypeScript's legacy decorators compile `@Module() class SseModule` to
      // `let SseModule = class SseModule {...}`, and rolldown (1.0 beta) renames the class
      // expression's own name to `SseModule$1` so that it does not shadow the outer binding.
      // Nest shows that name in its logs and DI errors, so keep the source names
      // (packages/nestjs/test/dist-names.test.ts checks both builds).
      keepNames: true,
    },
    ...overrides,
  })
}
