// better-sse 0.16: a channel broadcasts to sessions created on node:http.
import { createServer } from 'node:http'
import { createChannel, createSession } from 'better-sse'
import type { StartContestant } from '../protocol.ts'
import { listen } from './listen.ts'

const start: StartContestant = async () => {
  const channel = createChannel()
  const server = createServer(async (req, res) => {
    channel.register(await createSession(req, res, { keepAlive: null }))
  })
  return listen(server, (data) => channel.broadcast(data, 'message'))
}
export default start
