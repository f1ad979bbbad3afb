import { createServer } from 'node:http'
import { sse } from '@sse/express'
import express from 'express'
import type { StartContestant } from '../protocol.ts'
import { benchHub } from './hub.ts'
import { listen } from './listen.ts'

const start: StartContestant = async () => {
  const hub = benchHub()
  const app = express()
  app.get('/events', sse({ hub }), () => {})
  return listen(createServer(app), (data) => hub.publish({ data }))
}
export default start
