import { createServer as createHttp1Server, type ServerResponse } from 'node:http'
import { createServer as createHttp2Server } from 'node:http2'
import { afterEach, describe, expect, it } from 'vitest'
import { listen, openStream, type ServerUnderTest, waitFor } from '../src/index'

const servers: ServerUnderTest[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close()
})

/** A server that writes `frames` with a pause between, then ends or drops the response. */
function script(frames: Buffer[], finish: 'end' | 'destroy' | 'hold') {
  return (_req: unknown, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    let i = 0
    const next = () => {
      if (i < frames.length) {
        res.write(frames[i++])
        setTimeout(next, 5)
      } else if (finish === 'end') res.end()
      else if (finish === 'destroy') res.destroy()
    }
    next()
  }
}

// A multi-byte character split across two writes, so two TCP reads.
const utf8 = Buffer.from('data: 😀 ok\n\n')
const frames = [utf8.subarray(0, 8), utf8.subarray(8)]

for (const http2 of [false, true]) {
  const start = (finish: 'end' | 'destroy' | 'hold') => {
    const handler = script(frames, finish)
    const server = http2
      ? createHttp2Server((req, res) => handler(req, res as unknown as ServerResponse))
      : createHttp1Server(handler)
    return listen(server, { http2 }).then((s) => {
      servers.push(s)
      return s
    })
  }

  describe(http2 ? 'HTTP/2 client' : 'HTTP/1.1 client', () => {
    it('keeps exact bytes, parses events across chunks and sees a clean end', async () => {
      const server = await start('end')
      const client = await openStream(server)
      expect(client.status).toBe(200)
      expect(client.headers['content-type']).toBe('text/event-stream')
      await client.waitForClose()
      expect(client.ended).toBe(true)
      expect(client.bytes().equals(utf8)).toBe(true)
      expect(client.events().map((e) => e.data)).toEqual(['😀 ok'])
    })

    it('sees a dropped response close (and tells it from an end on HTTP/1.1)', async () => {
      const server = await start('destroy')
      const client = await openStream(server)
      await client.waitForClose()
      // Node's HTTP/2 client reports RST_STREAM(NO_ERROR) exactly like END_STREAM.
      if (!http2) expect(client.ended).toBe(false)
    })

    it('close() leaves: the server sees the connection go', async () => {
      let closed = false
      const server = http2 ? createHttp2Server() : createHttp1Server()
      server.on('request', (_req, res: ServerResponse) => {
        res.on('close', () => {
          closed = true
        })
        res.writeHead(200).write(':\n\n')
      })
      const running = await listen(server, { http2 })
      servers.push(running)
      const client = await openStream(running)
      await client.waitForText(':\n\n')
      client.close()
      await waitFor('the server to notice', () => closed)
    })
  })
}
