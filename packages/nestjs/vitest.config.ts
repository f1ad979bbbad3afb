import swc from 'unplugin-swc'
import { mergeConfig } from 'vitest/config'
import { sseProject } from '../../vitest.shared.ts'
import { nest11 } from './test/nest11-plugin.ts'

// Nest's dependency injection reads the decorator metadata that vitest's default transform does
// not emit, so TypeScript goes through SWC with legacy decorators and metadata. The tests under
// test/nest11/ run the same suites on NestJS 11 (see test/nest11-plugin.ts).
export default mergeConfig(sseProject('nestjs'), {
  plugins: [
    nest11(),
    swc.vite({
      tsconfigFile: false,
      jsc: {
        target: 'es2022',
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
      },
    }),
  ],
})
