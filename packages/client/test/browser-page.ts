// The Chromium side of the client's browser tests: a page that loads the client bundled from
// its sources by esbuild (the bundler of the size check), served with each test's routes by a
// node:http server on port 0, in Debian's /usr/bin/chromium through playwright-core.
import { createServer, type ServerResponse } from 'node:http'
import { fileURLToPath } from 'node:url'
import { CHROMIUM, CHROMIUM_ARGS, listen } from '@sse/test-utils'
import { build } from 'esbuild'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll } from 'vitest'
import type * as Client from '../src/index'
import type { CloseReason } from '../src/index'

export type Events = { token: { n: number }; done: { tokens: number } }
/**
 * Hides or shows the page as a switch of tabs does for `document`. Headless Chromium keeps every
 * page visible, so the page's own `visibilityState` is overridden and the real event dispatched.
 */
export function setHidden(hidden: boolean): void {
  Object.defineProperty(document, 'visibilityState', {
    configurable: true,
    get: () => (hidden ? 'hidden' : 'visible'),
  })
  document.dispatchEvent(new Event('visibilitychange'))
}

/** What the page saw, kept on `window.run` so the test can poll it. */
export interface Run {
  requests: { method: string; url: string; lastEventId: string | null }[]
  events: { event: string; data: unknown; id: string | undefined }[]
  closed?: CloseReason
}

declare global {
  interface Window {
    sseClient: typeof Client
    run: Run
  }
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>@sse/client</title>
<script type="module">import * as client from '/client.mjs'; window.sseClient = client</script>`

/** Starts the client in the page: every request it sends and every event it reads is recorded. */
export function startInPage(args: {
  url: string
  method: string
  pauseWhenHidden?: boolean
}): void {
  const run: Run = { requests: [], events: [] }
  window.run = run
  const stream = window.sseClient.connect<Events>(args.url, {
    method: args.method,
    pauseWhenHidden: args.pauseWhenHidden ?? false,
    ...(args.method === 'POST' && { body: '{"prompt":"hi"}' }),
    minDelay: 50,
    maxDelay: 200,
    fetch: (url, init) => {
      const lastEventId = new Headers(init.headers).get('last-event-id')
      run.requests.push({ method: init.method ?? 'GET', url, lastEventId })
      return fetch(url, init)
    },
  })
  void (async () => {
    for await (const { event, data, id } of stream) {
      run.events.push({ event, data, id })
      if (event === 'done') break
    }
    run.closed = await stream.closed
  })()
}

/** A request the test's routes saw. */
export interface Seen {
  method: string
  path: string
  lastEventId: string | undefined
}

/** What {@link useChromiumPage} gives a suite. */
export interface ChromiumPage {
  /** The page, open for the whole suite. */
  readonly page: Page
  /** The client bundled for the browser (ESM, minified), as `/client.mjs` serves it. */
  readonly bundle: string
  /** Serves the page, the bundle and the test's `/api/` routes on port 0, and opens the page. */
  serve(
    api: (res: ServerResponse, method: string, path: string) => unknown,
  ): Promise<{ url: string; seen: Seen[] }>
  /** The page's `window.run`. */
  run(): Promise<Run>
}

/** Launches Chromium with one page for the suite it is called in (inside `describeBrowser`). */
export function useChromiumPage(): ChromiumPage {
  let bundle: string
  let browser: Browser
  let page: Page
  const servers: { close(): Promise<void> }[] = []

  beforeAll(async () => {
    // Bundled for the browser as an app would ship it, from the sources the other tests run.
    const out = await build({
      entryPoints: [fileURLToPath(new URL('../src/index.ts', import.meta.url))],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      minify: true,
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
    await Promise.all(servers.splice(0).map((server) => server.close()))
  })

  return {
    get page() {
      return page
    },
    get bundle() {
      return bundle
    },
    async serve(api) {
      const seen: Seen[] = []
      const server = createServer(async (req, res) => {
        const path = req.url ?? '/'
        if (path === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE)
        if (path === '/client.mjs')
          return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle)
        if (!path.startsWith('/api/')) return void res.writeHead(404).end()
        for await (const _ of req); // the body, if any: sent once and not needed here
        const lastEventId = req.headers['last-event-id'] as string | undefined
        seen.push({ method: req.method ?? '', path, lastEventId })
        await api(res, req.method ?? '', path)
      })
      const listening = await listen(server)
      servers.push(listening)
      await page.goto(`${listening.url}/`)
      await page.waitForFunction(() => window.sseClient !== undefined)
      return { url: listening.url, seen }
    },
    run: () => page.evaluate(() => window.run),
  }
}
