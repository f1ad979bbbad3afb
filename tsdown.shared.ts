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
    // Shared chunks export their bindings under their own names, so declaration files and
    // editor hovers say `Hub`, not a one-letter alias (and nothing needs renaming to `M$1`).
    outputOptions: { minifyInternalExports: false },
    ...overrides,
  })
}
