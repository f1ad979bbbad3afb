import { sleep } from '@sse/test-utils'
import { describe, expect, it } from 'vitest'
import { connect } from '../src/index'
import { scriptedServer, stop, streamHead } from './servers'

type Events = { tick: { n: number; pad: string } }

const EVENTS = 100_000
const frame = (n: number) => `id: ${n}\nevent: tick\ndata: {"n":${n},"pad":"${'x'.repeat(80)}"}\n\n`

describe('a for await loop slower than the stream', () => {
  it('holds the reading back: the client keeps a bounded backlog, the server sees its writes wait, nothing is lost and no stall is reported', async () => {
    let refusedWrites = 0
    let written = 0
    const server = await scriptedServer(async (res, _req, n) => {
      if (n > 0) return stop(res)
      streamHead(res)
      // As fast as the connection takes them: 100,000 events, about 10 MB.
      for (let i = 0; i < EVENTS; i++) {
        written = i + 1
        if (!res.write(frame(i))) {
          refusedWrites++
          await new Promise((resolve) => res.once('drain', resolve))
        }
      }
      res.end()
    })
    // A listener hears each event as the client parses it; the loop pauses three times, longer
    // than the stall timeout.
    const stream = connect<Events>(server.url, { minDelay: 20, stallTimeout: 1_000 })
    let parsed = 0
    stream.on('tick', () => parsed++)
    let read = 0
    let widest = 0
    let stalledWrites = 0
    for await (const event of stream) {
      expect(event.event === 'tick' && event.data.n).toBe(read)
      read++
      widest = Math.max(widest, parsed - read)
      if (read % 2_000 === 0 && read < 8_000) {
        const before = written
        await sleep(1_300)
        // The server waited through the pause: its writes did not move, far from the end.
        if (written === before) stalledWrites = Math.max(stalledWrites, EVENTS - written)
      }
    }
    expect(read).toBe(EVENTS)
    expect((await stream.closed).type).toBe('no-content')
    // One request: the 1.3 s pauses (over stallTimeout) did not count as a stalled server.
    expect(server.requests).toHaveLength(2)
    expect(server.requests[1]!.lastEventId).toBe(String(EVENTS - 1))
    // Parsed but unread: the queue's high-water mark (1,024) plus at most one chunk's events.
    expect(widest).toBeLessThan(2_000)
    expect(refusedWrites).toBeGreaterThan(0)
    // About 3 MB sit in the kernel's buffers on loopback; the other 7 MB waited on the server.
    expect(stalledWrites).toBeGreaterThan(EVENTS / 2)
    await server.close()
  })
  it('close() while the reading is held back ends the stream at once', async () => {
    const server = await scriptedServer((res, _req, n) => {
      if (n > 0) return stop(res)
      streamHead(res)
      res.write(Array.from({ length: 5_000 }, (_, i) => frame(i)).join(''))
    })
    const stream = connect<Events>(server.url, { minDelay: 20 })
    let read = 0
    for await (const _ of stream) {
      read++
      if (read === 1) {
        await sleep(200) // the client is now waiting for this loop
        stream.close()
      }
    }
    expect((await stream.closed).type).toBe('aborted')
    // The loop still read what the client had queued before the close, and then ended.
    expect(read).toBeGreaterThan(1_000)
    expect(read).toBeLessThan(5_000)
    expect(server.requests).toHaveLength(1)
    await server.close()
  })
})
