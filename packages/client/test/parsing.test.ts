import { describe, expect, it } from 'vitest'
import { connect } from '../src/index'
import { scriptedServer, stop, streamHead } from './servers'

const tick = () => new Promise((resolve) => setTimeout(resolve, 10))

/** Connects with raw text data, collects every event until the stream ends. */
async function collect(url: string, options: Parameters<typeof connect>[1] = {}) {
  const stream = connect(url, { raw: true, minDelay: 20, maxDelay: 20, ...options })
  const events: Array<{ event: string; data: unknown; id: string | undefined }> = []
  for await (const event of stream) events.push(event)
  return { events, reason: await stream.closed, lastEventId: stream.lastEventId }
}

describe('parsing (through eventsource-parser)', () => {
  it('drops a UTF-8 BOM at the start, also split across chunks', async () => {
    const server = await scriptedServer(async (res, _req, n) => {
      if (n > 0) return stop(res)
      streamHead(res)
      res.write(Buffer.from([0xef, 0xbb]))
      await tick()
      res.write(Buffer.concat([Buffer.from([0xbf]), Buffer.from('data: x\n\n')]))
      res.end()
    })
    const { events } = await collect(server.url)
    expect(events).toEqual([{ event: 'message', data: 'x', id: undefined }])
    await server.close()
  })

  it('reads a CRLF split across chunks as one line end', async () => {
    const server = await scriptedServer(async (res, _req, n) => {
      if (n > 0) return stop(res)
      streamHead(res)
      res.write('event: a\r\ndata: 1\r')
      await tick()
      res.write('\n\r')
      await tick()
      res.write('\ndata: 2\r\n\r\n')
      res.end()
    })
    const { events } = await collect(server.url)
    expect(events.map((e) => [e.event, e.data])).toEqual([
      ['a', '1'],
      ['message', '2'],
    ])
    await server.close()
  })

  it('ignores an id containing NULL and keeps the last good one for the reconnect', async () => {
    const server = await scriptedServer((res, _req, n) => {
      if (n > 0) return stop(res)
      streamHead(res)
      res.end('id: 5\ndata: a\n\nid: 6\0x\ndata: b\n\n')
    })
    const { events, lastEventId } = await collect(server.url)
    expect(events.map((e) => [e.data, e.id])).toEqual([
      ['a', '5'],
      ['b', undefined],
    ])
    expect(lastEventId).toBe('5')
    expect(server.requests[1]?.lastEventId).toBe('5')
    await server.close()
  })

  it('ignores a retry that is not all digits (C33: a valid retry: is honoured)', async () => {
    const server = await scriptedServer((res, _req, n) => {
      if (n > 0) return stop(res)
      streamHead(res)
      res.end('retry: 30\n\nretry: 5000ms\n\nretry: -1\n\ndata: a\n\n')
    })
    // Without the server's 30 ms, the reconnect would wait 5 s.
    const started = performance.now()
    const { events } = await collect(server.url, { minDelay: 5000, maxDelay: 5000 })
    expect(events).toHaveLength(1)
    expect(performance.now() - started).toBeLessThan(2000)
    await server.close()
  })

  it('drops a final event not ended by a blank line', async () => {
    const server = await scriptedServer((res, _req, n) => {
      if (n > 0) return stop(res)
      streamHead(res)
      res.end('data: whole\n\ndata: cut')
    })
    const { events } = await collect(server.url)
    expect(events.map((e) => e.data)).toEqual(['whole'])
    await server.close()
  })

  it('ignores comments and unknown fields; joins data lines with LF; keeps empty data', async () => {
    const server = await scriptedServer((res, _req, n) => {
      if (n > 0) return stop(res)
      streamHead(res)
      res.end(': hello\n\nfoo: bar\ndata: a\ndata:  b\n\n: bye\ndata:\n\n')
    })
    const { events } = await collect(server.url)
    expect(events.map((e) => e.data)).toEqual(['a\n b', ''])
    await server.close()
  })
})
