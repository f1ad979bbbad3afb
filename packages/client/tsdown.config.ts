import { libraryConfig } from '../../tsdown.shared.ts'

// Runtime-neutral: no `node:` imports, only fetch, streams and TextDecoder, so the same build
// runs in browsers, Node 20+, Deno, Bun and workers.
export default libraryConfig({ platform: 'neutral' })
