// The spec's parsing rules (parsing-cases.ts) in Chromium: the same bytes, split the same way,
// read by the client bundled for the browser with Chromium's own fetch and TextDecoder.
import { describeBrowser } from '@sse/test-utils'
import { it } from 'vitest'
import { useChromiumPage } from './browser-page'
import { parsingCases } from './parsing-cases'

const tick = () => new Promise((resolve) => setTimeout(resolve, 10))

/** Reads `/api/case` with raw data until the stream ends (the reconnect is answered 204). */
async function collectInPage(delay: number) {
  const started = performance.now()
  const stream = window.sseClient.connect('/api/case', {
    raw: true,
    minDelay: delay,
    maxDelay: delay,
  })
  const events: { event: string; data: unknown; id: string | undefined }[] = []
  for await (const { event, data, id } of stream) events.push({ event, data, id })
  await stream.closed
  return { events, lastEventId: stream.lastEventId, ms: performance.now() - started }
}

describeBrowser('parsing in Chromium (through eventsource-parser)', () => {
  const chromium = useChromiumPage()

  for (const { name, chunks, delay = 20, check } of parsingCases) {
    it(name, async () => {
      let requests = 0
      const { seen } = await chromium.serve(async (res, _method, path) => {
        if (path !== '/api/case' || requests++ > 0) return void res.writeHead(204).end()
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        res.flushHeaders()
        for (const [i, chunk] of chunks.entries()) {
          if (i > 0) await tick()
          res.write(typeof chunk === 'string' ? chunk : Buffer.from(chunk))
        }
        res.end()
      })
      const result = await chromium.page.evaluate(collectInPage, delay)
      check({ ...result, resumedWith: seen[1]?.lastEventId })
    })
  }
})
