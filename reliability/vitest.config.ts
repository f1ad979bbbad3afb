import swc from 'unplugin-swc'
import { mergeConfig } from 'vitest/config'
import { sseProject } from '../vitest.shared.ts'

// Long-running checks (fuzzing, chaos, leaks): alone with `pnpm test:reliability`, and last in
// `pnpm test` (a later group), one file at a time, so other tests do not skew their figures.
export default mergeConfig(
  sseProject('reliability', {
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
    sequence: { groupOrder: 1 },
    // The leak checks compare the heap after a full collection: the worker needs global.gc().
    pool: 'forks',
    execArgv: ['--expose-gc'],
  }),
  {
    // The suite reuses @sse/nestjs's test target, whose dependency injection reads decorator
    // metadata that vitest's default transform does not emit (as in packages/nestjs).
    plugins: [
      swc.vite({
        tsconfigFile: false,
        jsc: {
          target: 'es2022',
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
        },
      }),
    ],
  },
)
