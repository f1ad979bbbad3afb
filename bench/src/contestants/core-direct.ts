// @sse/core on node:http with `coalesce: true`: the frames one turn of the event loop writes to a
// socket leave in one write.
import { createServer } from 'node:http'
import { openNodeStream } from '@sse/core/node'
import type { StartContestant } from '../protocol.ts'
import { benchHub } from './hub.ts'
import { listen } from './listen.ts'

const start: StartContestant = async () => {
  const hub = benchHub()
  const server = createServer((req, res) => {
    openNodeStream(req, res, { hub, coalesce: true })
  })
  return listen(server, (data) => hub.publish({ data }))
}
export default start
