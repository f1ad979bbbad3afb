// useEventStream in headless Chromium (Debian's /usr/bin/chromium through playwright-core):
// a React 19 development build under StrictMode, bundled by esbuild, reads a @sse/core durable
// stream started by POST. Without Chromium the suite skips with a warning; CI sets
// SSE_REQUIRE_BROWSER=1, which turns that skip into a failure.
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import { createDurableStreams, createHub } from '@sse/core'
import { openNodeStream } from '@sse/core/node'
import { CHROMIUM, CHROMIUM_ARGS, describeBrowser, listen } from '@sse/test-utils'
import { build } from 'esbuild'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest'

const title = 'useEventStream in Chromium'

const PAGE = `<!doctype html><meta charset="utf-8"><title>@sse/react</title>
<div id="root"></div><script type="module" src="/app.mjs"></script>`

/** Hides or shows the page; headless Chromium keeps pages visible, so the state is overridden. */
function setHidden(hidden: boolean): void {
  Object.defineProperty(document, 'visibilityState', {
    configurable: true,
    get: () => (hidden ? 'hidden' : 'visible'),
  })
  document.dispatchEvent(new Event('visibilitychange'))
}

let bundle: string
let browser: Browser
let page: Page
const closers: (() => Promise<void>)[] = []

/** A chat server: POST /api/answer starts a durable answer of `tokens`, GET resumes it. */
async function serve(tokens: number, everyMs: number) {
  const hub = createHub({ heartbeat: false, retry: 50, retryJitter: 0 })
  const chats = createDurableStreams(hub, { location: (id) => `/api/answer/${id}` })
  const seen: { method: string; lastEventId: string | undefined }[] = []
  const server = createServer(async (req, res) => {
    if (req.url === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE)
    if (req.url === '/app.mjs')
      return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle)
    if (!req.url?.startsWith('/api/')) return void res.writeHead(404).end()
    for await (const _ of req); // the prompt, sent once
    seen.push({ method: req.method!, lastEventId: req.headers['last-event-id'] as string })
    if (req.method === 'POST') {
      const run = await chats.start({
        produce: async (out) => {
          for (let i = 0; i < tokens; i++) {
            await new Promise((resolve) => setTimeout(resolve, everyMs))
            await out.send('token', `t${i}`)
          }
        },
      })
      return void openNodeStream(req, res, { durable: run })
    }
    void openNodeStream(req, res, { durable: chats.get(req.url!.slice('/api/answer/'.length)) })
  })
  const listening = await listen(server)
  closers.push(() => listening.close())
  await page.goto(`${listening.url}/`)
  await page.waitForFunction(() => typeof window.mount === 'function')
  return { hub, seen }
}

const tokensOf = (received: { event: string; data: unknown }[]) =>
  received.filter((e) => e.event === 'token').map((e) => e.data)

describeBrowser(title, () => {
  beforeAll(async () => {
    const out = await build({
      entryPoints: [fileURLToPath(new URL('./fixtures/app.ts', import.meta.url))],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      // React's development build: StrictMode double-mounts effects only there.
      define: { 'process.env.NODE_ENV': '"development"' },
      alias: {
        '@sse/client': fileURLToPath(new URL('../../client/src/index.ts', import.meta.url)),
      },
      write: false,
    })
    bundle = out.outputFiles[0]!.text
    browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] })
    page = await browser.newPage()
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
  })

  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()))
  })

  it('under StrictMode one POST starts the answer; every token arrives once; at the end a 204 closes it', async () => {
    const { seen } = await serve(20, 5)
    await page.evaluate(() => window.mount('/api/answer', 'POST'))
    await page.waitForFunction(() => window.rendered?.endsWith('closed:no-content'), null, {
      timeout: 10_000,
    })
    const received = await page.evaluate(() => window.received)
    expect(tokensOf(received)).toEqual(Array.from({ length: 20 }, (_, i) => `t${i}`))
    expect(received.at(-1)?.event).toBe('done')
    expect(await page.evaluate(() => window.mounts)).toBe(2) // StrictMode did mount twice
    // One POST (StrictMode's first mount sent nothing), then the resume that got 204.
    expect(seen.map((s) => s.method)).toEqual(['POST', 'GET'])
    expect(seen[1]!.lastEventId).toBe(received.at(-1)!.id)
  }, 30_000)

  it('a hidden tab closes the connection; shown again it resumes from its last id, nothing lost or repeated; unmounting closes it', async () => {
    const { hub, seen } = await serve(40, 10)
    await page.evaluate(() => {
      window.received = []
      window.mount('/api/answer', 'POST')
    })
    await page.waitForFunction(() => window.received.length >= 5)
    await page.evaluate(setHidden, true)
    await vi.waitFor(() => expect(hub.size).toBe(0))
    const hiddenAt = await page.evaluate(() => window.received.length)
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(await page.evaluate(() => window.received.length)).toBe(hiddenAt)
    await page.evaluate(setHidden, false)
    await page.waitForFunction(() => window.received.some((e) => e.event === 'done'), null, {
      timeout: 10_000,
    })
    const received = await page.evaluate(() => window.received)
    expect(tokensOf(received)).toEqual(Array.from({ length: 40 }, (_, i) => `t${i}`))
    expect(seen[0]!.method).toBe('POST')
    expect(seen[1]).toEqual({ method: 'GET', lastEventId: received[hiddenAt - 1]!.id })
    await page.evaluate(() => window.unmount())
    await vi.waitFor(() => expect(hub.size).toBe(0))
  }, 30_000)
})
