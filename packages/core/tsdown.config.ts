import { defineConfig } from 'tsdown'

export default defineConfig({
  entry: ['src/index.ts', 'src/node.ts', 'src/web.ts'],
  format: ['esm', 'cjs'],
  fixedExtension: true,
  dts: true,
  platform: 'neutral',
  target: 'node20',
  sourcemap: false,
  clean: true,
})
