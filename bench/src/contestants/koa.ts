import { createServer } from 'node:http'
import { sse } from '@sse/koa'
import Koa from 'koa'
import type { StartContestant } from '../protocol.ts'
import { benchHub } from './hub.ts'
import { listen } from './listen.ts'

const start: StartContestant = async () => {
  const hub = benchHub()
  const app = new Koa()
  app.use(sse({ hub }))
  return listen(createServer(app.callback()), (data) => hub.publish({ data }))
}
export default start
