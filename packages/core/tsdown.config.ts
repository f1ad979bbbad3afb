import { libraryConfig } from '../../tsdown.shared.ts'

// The main entry is runtime-neutral (no `node:` imports); `node` is the node:http connection.
export default libraryConfig({
  entry: ['src/index.ts', 'src/node.ts', 'src/web.ts'],
  platform: 'neutral',
})
