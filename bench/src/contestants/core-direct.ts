// @sse/core on node:http with `coalesce: false`: every frame leaves in its own socket write, the
// reference that the default (adaptive coalescing) is measured against.
import { createServer } from 'node:http'
import { openNodeStream } from '@sse/core/node'
import type { StartContestant } from '../protocol.ts'
import { benchHub } from './hub.ts'
import { listen } from './listen.ts'

const start: StartContestant = async () => {
  const hub = benchHub()
  const server = createServer((req, res) => {
    openNodeStream(req, res, { hub, coalesce: false })
  })
  return listen(server, (data) => hub.publish({ data }))
}
export default start
