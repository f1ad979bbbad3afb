import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHub, type SseStream } from '@sse/core'
import { openNodeStream } from '@sse/core/node'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ARGS, CHROMIUM } from './browser.ts'

// The page: a plain EventSource that records the events named `n` it receives.
const PAGE = `<!doctype html><script>
window.received = []
new EventSource('/events').addEventListener('n', (e) => received.push([e.data, e.lastEventId]))
</script>`

const title = "C34 in Chromium: a stream's first frame gives a browser its cursor"
const missing = existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM}`

if (missing && process.env.SSE_REQUIRE_BROWSER !== '1') {
  console.warn(`\n*** ${title}: SKIPPED, ${missing} (apt-get install chromium) ***\n`)
}

describe.skipIf(missing && process.env.SSE_REQUIRE_BROWSER !== '1')(title, () => {
  let browser: Browser
  let server: Server | undefined

  beforeAll(async () => {
    if (missing) throw new Error(`Browser tests required (SSE_REQUIRE_BROWSER=1) but ${missing}`)
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    server?.closeAllConnections()
    server?.close()
  })

  it('a browser cut before its first event reconnects with the cursor and loses nothing', async () => {
    const hub = createHub({ heartbeat: false, retry: 300, retryJitter: 0 })
    const streams: SseStream[] = []
    const lastEventIds: (string | undefined)[] = []
    let cursor: string | undefined
    server = createServer(async (req, res) => {
      if (req.url !== '/events') {
        res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE)
        return
      }
      lastEventIds.push(req.headers['last-event-id'] as string | undefined)
      const stream = await openNodeStream(req, res, { hub })
      streams.push(stream)
      if (streams.length > 1) return
      // The first stream drops before any event (as a proxy's idle timeout does), and events
      // are published while the browser waits to reconnect.
      stream.close()
      // The cursor a caught-up stream held before the events: what the first frame gave.
      cursor = await hub.cursor()
      for (let i = 0; i < 3; i++) await hub.publish('n', String(i))
    })
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    const page = await browser.newPage()
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
    await page.waitForFunction(() => (window as { received?: unknown[] }).received?.length === 3, {
      timeout: 10_000,
    })
    const received = await page.evaluate(() => (window as { received?: string[][] }).received)
    expect(received!.map(([data]) => data)).toEqual(['0', '1', '2'])
    // The browser took the id of the first frame's cursor event, which it did not dispatch.
    expect(lastEventIds[0]).toBeUndefined()
    expect(cursor).toBeDefined()
    expect(lastEventIds[1]).toBe(cursor)
    // The replayed events carry ids of their own, none the cursor's, none twice.
    const ids = received!.map(([, id]) => id)
    expect(new Set([cursor, ...ids]).size).toBe(4)
    await page.close()
  })
})
