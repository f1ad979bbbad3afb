import swc from 'unplugin-swc'
import { mergeConfig } from 'vitest/config'
import { sseProject } from '../../vitest.shared'

// Nest's dependency injection reads the decorator metadata that vitest's default transform does
// not emit, so TypeScript goes through SWC with legacy decorators and metadata.
export default mergeConfig(sseProject('nestjs'), {
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
})
