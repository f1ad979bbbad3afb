// @sse/core on plain node:http: what every Node adapter should cost.
import { createServer } from 'node:http'
import { openNodeStream } from '@sse/core/node'
import type { StartContestant } from '../protocol.ts'
import { benchHub } from './hub.ts'
import { listen } from './listen.ts'

const start: StartContestant = async () => {
  const hub = benchHub()
  const server = createServer((req, res) => {
    openNodeStream(req, res, { hub })
  })
  return listen(server, (data) => hub.publish({ data }))
}
export default start
