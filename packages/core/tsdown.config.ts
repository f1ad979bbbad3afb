import { libraryConfig } from '../../tsdown.shared.ts'

// The main and adapter entries are runtime-neutral (no `node:` imports); `node` is the
// node:http connection, `web` the Fetch one.
export default libraryConfig({
  entry: ['src/index.ts', 'src/adapter.ts', 'src/node.ts', 'src/web.ts'],
  platform: 'neutral',
})
