// The practical floor: node:http accepts the request, then each broadcast is one pre-framed
// Buffer written straight to every socket (no chunked framing, no response object in the way).
import { createServer } from 'node:http'
import type { Socket } from 'node:net'
import type { StartContestant } from '../protocol.ts'
import { listen } from './listen.ts'

const HEAD =
  'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n' +
  'Cache-Control: no-cache, no-transform\r\nConnection: keep-alive\r\n\r\nretry: 3000\n\n'

const start: StartContestant = async () => {
  const sockets = new Set<Socket>()
  const server = createServer((req) => {
    const socket = req.socket
    socket.setNoDelay(true)
    socket.write(HEAD)
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  return listen(server, (data) => {
    const frame = Buffer.from(`data: ${JSON.stringify(data)}\n\n`)
    for (const socket of sockets) socket.write(frame)
  })
}
export default start
