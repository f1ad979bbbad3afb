import { describe, it } from 'vitest'
import { connect } from '../src/index'
import { parsingCases } from './parsing-cases'
import { scriptedServer, stop, streamHead } from './servers'

const tick = () => new Promise((resolve) => setTimeout(resolve, 10))

describe('parsing (through eventsource-parser)', () => {
  for (const { name, chunks, delay = 20, check } of parsingCases) {
    it(name, async () => {
      const server = await scriptedServer(async (res, _req, n) => {
        if (n > 0) return stop(res)
        streamHead(res)
        for (const [i, chunk] of chunks.entries()) {
          if (i > 0) await tick()
          res.write(typeof chunk === 'string' ? chunk : Buffer.from(chunk))
        }
        res.end()
      })
      const started = performance.now()
      const stream = connect(server.url, { raw: true, minDelay: delay, maxDelay: delay })
      const events: { event: string; data: unknown; id: string | undefined }[] = []
      for await (const event of stream) events.push(event)
      await stream.closed
      check({
        events,
        lastEventId: stream.lastEventId,
        resumedWith: server.requests[1]?.lastEventId,
        ms: performance.now() - started,
      })
      await server.close()
    })
  }
})
