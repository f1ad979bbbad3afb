import { libraryConfig } from '../../tsdown.shared.ts'

// Node only: it listens on node:diagnostics_channel.
export default libraryConfig()
