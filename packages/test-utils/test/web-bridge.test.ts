import { createServer } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import {
  listen,
  openStream,
  type ServerUnderTest,
  serveWebHandler,
  sleep,
  type WebHandler,
  waitFor,
} from '../src/index'

const servers: ServerUnderTest[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close()
})

async function serve(handler: WebHandler) {
  const server = await listen(createServer(serveWebHandler(handler)))
  servers.push(server)
  return server
}

describe('serveWebHandler', () => {
  it('passes method, URL and headers in, and status, headers and cookies out', async () => {
    const server = await serve((request) => {
      const headers = new Headers({
        'x-url': request.url,
        'x-got': request.headers.get('x-in') ?? '',
      })
      headers.append('set-cookie', 'a=1')
      headers.append('set-cookie', 'b=2')
      return new Response('body', { status: 201, headers })
    })
    const client = await openStream(server, { path: '/p?q=1', headers: { 'x-in': 'yes' } })
    await client.waitForClose()
    expect(client.status).toBe(201)
    expect(client.headers['x-url']).toBe(`${server.url}/p?q=1`)
    expect(client.headers['x-got']).toBe('yes')
    expect(client.headers['set-cookie']).toEqual(['a=1', 'b=2'])
    expect(client.text()).toBe('body')
  })

  it('answers 500 when the handler throws', async () => {
    const server = await serve(() => {
      throw new Error('boom')
    })
    const client = await openStream(server)
    expect(client.status).toBe(500)
  })

  it('sends the head before the body has anything, pulls with backpressure, and cancels the body and aborts the signal when the client leaves', async () => {
    let pulled = 0
    let cancelled = false
    let aborted = false
    const chunk = new Uint8Array(64 * 1024).fill(120)
    const server = await serve((request) => {
      request.signal.addEventListener('abort', () => {
        aborted = true
      })
      const body = new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            // The first chunk waits, so the head must go out on its own.
            if (pulled++ === 0) await sleep(50)
            controller.enqueue(chunk)
          },
          cancel() {
            cancelled = true
          },
        },
        { highWaterMark: 0 },
      )
      return new Response(body, { headers: { 'content-type': 'text/event-stream' } })
    })
    const client = await openStream(server)
    expect(client.chunks).toHaveLength(0)
    client.pause()
    // A client that reads nothing stops the pulls once socket buffers are full.
    let last = -1
    await waitFor(
      'the pulls to stop',
      () => {
        const now = pulled
        const stopped = now === last
        last = now
        return stopped
      },
      { interval: 200, timeout: 10_000 },
    )
    expect(pulled * chunk.length).toBeLessThan(64 * 1024 * 1024)
    client.close()
    await waitFor('the body to be cancelled', () => cancelled && aborted)
  })
})
