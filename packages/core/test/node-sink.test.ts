import { createServer, request, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { afterEach, describe, expect, it } from 'vitest'
import { CURSOR_EVENT } from '../src/head'
import { createHub } from '../src/hub'
import { openNodeStream } from '../src/node'
import { type Http1Sink, http1Sink } from '../src/node-sink'
import type { SseStream } from '../src/stream'

type Opened = {
  session: SseStream
  res: ServerResponse
  socketWrites: number
  resWrites: number
  /** Whether the socket was still corked as the stream opened (Node corks a first write). */
  corked: number
}

const servers: ReturnType<typeof createServer>[] = []
afterEach(() => {
  for (const server of servers.splice(0)) server.close()
})

/** A server whose one stream counts what goes through `res.write` and `socket.write`. */
async function stream(wrap: boolean, coalesce = true) {
  const hub = createHub()
  let opened!: (value: Opened) => void
  const ready = new Promise<Opened>((resolve) => {
    opened = resolve
  })
  const server = createServer(async (req, res) => {
    const counts = { socketWrites: 0, resWrites: 0 }
    const socketWrite = res.socket!.write.bind(res.socket!)
    res.socket!.write = ((...args: Parameters<typeof socketWrite>) => {
      counts.socketWrites++
      return socketWrite(...args)
    }) as typeof socketWrite
    if (wrap) {
      // What compression or logging middleware does: a wrapper around res.write.
      const write = res.write.bind(res)
      res.write = ((...args: Parameters<typeof write>) => {
        counts.resWrites++
        return write(...args)
      }) as typeof write
    }
    const session = await openNodeStream(req, res, { hub, heartbeat: false, coalesce })
    opened(Object.assign(counts, { session, res, corked: res.socket!.writableCorked }))
  })
  const port = await listen(server)
  return { hub, events: read(port, '/'), opened: await ready }
}

async function listen(server: ReturnType<typeof createServer>): Promise<number> {
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

/** Requests `path` and collects its events as they come. */
function read(port: number, path: string): EventSourceMessage[] {
  const events: EventSourceMessage[] = []
  // The stream's cursor event (C34) is not one of the events these tests count.
  const parser = createParser({
    onEvent: (event) => event.event !== CURSOR_EVENT && events.push(event),
  })
  request({ port, path }, (res) => {
    res.setEncoding('utf8')
    res.on('data', (text: string) => parser.feed(text))
  }).end()
  return events
}

async function until(check: () => boolean) {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10))
  expect(check()).toBe(true)
}

describe('HTTP/1 sink', () => {
  it('writes frames straight to the socket, in valid chunked framing, after the head', async () => {
    const { hub, events, opened } = await stream(false, false)
    const before = opened.socketWrites
    for (let n = 0; n < 5; n++) await hub.publish({ event: 'tick', data: { n } })
    opened.session.send({ data: 'é unicast\nline' })
    await until(() => events.length === 6)
    expect(events.map((e) => e.data)).toEqual([
      '{"n":0}',
      '{"n":1}',
      '{"n":2}',
      '{"n":3}',
      '{"n":4}',
      'é unicast\nline',
    ])
    expect(opened.socketWrites - before).toBe(6)
    opened.session.close()
  })

  it('keeps to res.write when middleware wrapped it', async () => {
    const { hub, events, opened } = await stream(true)
    const before = opened.resWrites
    for (let n = 0; n < 3; n++) await hub.publish({ data: String(n) })
    await until(() => events.length === 3)
    expect(opened.resWrites - before).toBe(3)
    opened.session.close()
  })

  it('coalesces what one turn of the event loop writes into one socket write', async () => {
    const { hub, events, opened } = await stream(false)
    const before = opened.socketWrites
    for (let n = 0; n < 50; n++) hub.publish({ event: 'tick', data: { n } })
    opened.session.send({ data: 'last\r\nline' })
    await until(() => events.length === 51)
    expect(events.slice(0, 50).map((e) => JSON.parse(e.data).n)).toEqual([...Array(50).keys()])
    expect(events[50]!.data).toBe('last\nline')
    // The turn's first frame went at once (the stream's previous turn wrote one: its head), the
    // other 50 together.
    expect(opened.socketWrites - before).toBe(2)
    // Ending flushes what is still queued.
    hub.publish({ data: 'bye' })
    opened.session.close()
    await until(() => events.length === 52)
  })

  it('writes past the cork Node puts on the head, and sends a turn that fills the socket buffer as it fills, not at its end', async () => {
    const { events, opened } = await stream(false)
    expect(opened.corked).toBe(0)
    await new Promise((resolve) => setTimeout(resolve, 5))
    const before = opened.socketWrites
    const pad = 'x'.repeat(1024)
    // 64 KB in one turn, four times the socket's high-water mark (16 KB).
    for (let n = 0; n < 64; n++) opened.session.send({ data: `${n} ${pad}` })
    expect(opened.socketWrites - before).toBeGreaterThanOrEqual(4)
    expect(opened.session.bufferedBytes).toBeLessThan(64 * 1024)
    await until(() => events.length === 64)
    expect(events.map((event) => Number(event.data.split(' ')[0]))).toEqual([...Array(64).keys()])
    opened.session.close()
  })

  it('adapts: a frame alone in its turn goes at once, a busy turn queues from its second frame, and the turn after a busy one from its first', async () => {
    const { events, opened } = await stream(false)
    const { session } = opened
    /** Sends `data` in a turn of its own: the socket writes at once, and by the end of the turn. */
    const inTurn = async (...data: string[]) => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      const before = opened.socketWrites
      for (const text of data) session.send({ data: text })
      const atOnce = opened.socketWrites - before
      await new Promise(setImmediate)
      return [atOnce, opened.socketWrites - before]
    }
    expect(await inTurn('alone')).toEqual([1, 1])
    expect(await inTurn('busy 1', 'busy 2', 'busy 3')).toEqual([1, 2])
    // The previous turn was busy: this one queues from its first frame.
    expect(await inTurn('after busy')).toEqual([0, 1])
    // And a quiet turn brings back writing at once.
    expect(await inTurn('quiet again')).toEqual([1, 1])

    await until(() => events.length === 6)
    expect(events.map((e) => e.data)).toEqual([
      'alone',
      'busy 1',
      'busy 2',
      'busy 3',
      'after busy',
      'quiet again',
    ])
    session.close()
  })

  it('sends each socket its own frames when sockets share a turn: a broadcast joined once, a unicast apart', async () => {
    const hub = createHub()
    const sessions: SseStream[] = []
    const server = createServer(async (req, res) => {
      const i = Number(req.url!.slice(1))
      sessions[i] = await openNodeStream(req, res, { hub, heartbeat: false })
    })
    const port = await listen(server)
    // Two sockets get the same frames in a turn (one join may serve both), the first a unicast
    // among them.
    const received = [0, 1, 2].map((i) => read(port, `/${i}`))
    await until(() => sessions.filter(Boolean).length === 3)
    await new Promise((resolve) => setTimeout(resolve, 5))
    for (let n = 0; n < 10; n++) hub.publish({ data: `all ${n}` })
    sessions[0]!.send({ data: 'only the first' })
    for (let n = 10; n < 20; n++) hub.publish({ data: `all ${n}` })
    await until(() => received.map((events) => events.length).join() === '21,20,20')
    const [first, second, third] = received.map((events) => events.map((event) => event.data))
    const all = [...Array(20).keys()].map((n) => `all ${n}`)
    expect(first).toEqual([...all.slice(0, 10), 'only the first', ...all.slice(10)])
    expect(second).toEqual(all)
    expect(third).toEqual(all)
    for (const session of sessions) session.close()
  })

  it('sends what a sink writes while its turn is being flushed (a drain listener writing at once)', async () => {
    let sink!: Http1Sink
    let rewrote = false
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      sink = http1Sink(res)
      sink.attach(
        {
          // A flush that the socket took at once reports a drain, from inside the flush.
          drained: () => {
            if (rewrote) return
            rewrote = true
            sink.write('data: written while flushed\n\n')
          },
          closed: () => {},
        },
        true,
      )
      sink.write('data: head\n\n')
    })
    const events = read(await listen(server), '/')
    await until(() => events.length === 1)
    await new Promise((resolve) => setTimeout(resolve, 5))
    // A busy turn: the first frame goes at once, the other two wait for the turn's flush.
    for (const data of ['a', 'b', 'c']) sink.write(`data: ${data}\n\n`)
    await until(() => events.length === 5)
    expect(events.map((event) => event.data)).toEqual([
      'head',
      'a',
      'b',
      'c',
      'written while flushed',
    ])
    sink.end()
  })
})
