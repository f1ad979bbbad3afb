import { libraryConfig } from '../../tsdown.shared.ts'

// Runtime-neutral like @sse/client: React Native, browsers and server rendering all load it.
export default libraryConfig({ platform: 'neutral' })
