// The client in headless Chromium (Debian's /usr/bin/chromium through playwright-core, never a
// downloaded browser): the page loads the client bundled from its sources by esbuild, the
// bundler of the size check, and talks to a node:http server on port 0 whose streams are
// @sse/core hub streams. Chromium's own fetch, ReadableStream and TextDecoder are exercised,
// which Node's tests cannot show. Without Chromium the suite skips with a warning; CI sets
// SSE_REQUIRE_BROWSER=1, which turns that skip into a failure.
import { createServer, type ServerResponse } from 'node:http'
import { fileURLToPath } from 'node:url'
import { createHub } from '@sse/core'
import { openNodeStream } from '@sse/core/node'
import { CHROMIUM, CHROMIUM_ARGS, describeBrowser, listen } from '@sse/test-utils'
import { build } from 'esbuild'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest'
import type * as Client from '../src/index'
import type { CloseReason } from '../src/index'

const title = '@sse/client in Chromium'

type Events = { token: { n: number }; done: { tokens: number } }

/**
 * Hides or shows the page as a switch of tabs does for `document`. Headless Chromium keeps every
 * page visible, so the page's own `visibilityState` is overridden and the real event dispatched.
 */
function setHidden(hidden: boolean): void {
  Object.defineProperty(document, 'visibilityState', {
    configurable: true,
    get: () => (hidden ? 'hidden' : 'visible'),
  })
  document.dispatchEvent(new Event('visibilitychange'))
}

/** What the page saw, kept on `window.run` so the test can poll it. */
interface Run {
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
function startInPage(args: { url: string; method: string; pauseWhenHidden?: boolean }): void {
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

let bundle: string
let browser: Browser
let page: Page
const servers: { close(): Promise<void> }[] = []

/** A server on port 0 for one test: the page, the bundle, and the test's `/api/` routes. */
async function serve(api: (res: ServerResponse, method: string, path: string) => unknown) {
  const seen: { method: string; path: string; lastEventId: string | undefined }[] = []
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
}

function pageRun(): Promise<Run> {
  return page.evaluate(() => window.run)
}

describeBrowser(title, () => {
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
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
  })

  beforeAll(async () => {
    page = await browser.newPage()
  })

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()))
  })

  it('C32 a POST stream cut server-side resumes with GET and Last-Event-ID at SSE-Resume: no event lost or repeated, no second POST', async () => {
    const hub = createHub<Events>({ heartbeat: false, retry: 50, retryJitter: 0 })
    const topics = ['answer-1']
    let post: ServerResponse | undefined
    const { seen } = await serve(async (res, method, path) => {
      if (method === 'POST' && path === '/api/answer') {
        post = res
        // Relative to the request's URL: the page resumes at /api/streams/answer-1.
        res.setHeader('SSE-Resume', 'streams/answer-1')
        await openNodeStream(res.req, res, { hub, topics })
      } else if (method === 'GET' && path === '/api/streams/answer-1') {
        await openNodeStream(res.req, res, { hub, topics })
      } else res.writeHead(404).end()
    })
    const publish = async (from: number, to: number) => {
      for (let n = from; n <= to; n++) await hub.publish('token', { n }, { topic: topics[0] })
    }

    await page.evaluate(startInPage, { url: '/api/answer', method: 'POST' })
    await vi.waitFor(() => expect(hub.size).toBe(1))
    await publish(1, 3)
    await page.waitForFunction(() => window.run.events.length === 3)
    // The cut: the socket is destroyed under the open response, as a crash or a proxy would,
    // and the next events are published while the page is away (a replay must bring them).
    post!.socket!.destroy()
    await publish(4, 6)
    await vi.waitFor(() => expect(seen).toHaveLength(2))
    await vi.waitFor(() => expect(hub.size).toBe(1))
    await publish(7, 8)
    await hub.publish('done', { tokens: 8 }, { topic: topics[0] })
    await page.waitForFunction(() => window.run.closed !== undefined)

    const run = await pageRun()
    expect(
      run.events.map((e) => (e.event === 'token' ? (e.data as { n: number }).n : e.event)),
    ).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 'done'])
    const ids = run.events.map((e) => e.id)
    expect(new Set(ids).size).toBe(9)
    // What Chromium sent, seen from the page's fetch and from the server: one POST, then GET at
    // the named location with the id of the last event read before the cut.
    const resumeUrl = `${new URL(page.url()).origin}/api/streams/answer-1`
    expect(run.requests).toEqual([
      { method: 'POST', url: `${new URL(page.url()).origin}/api/answer`, lastEventId: null },
      { method: 'GET', url: resumeUrl, lastEventId: ids[2] },
    ])
    expect(seen).toEqual([
      { method: 'POST', path: '/api/answer', lastEventId: undefined },
      { method: 'GET', path: '/api/streams/answer-1', lastEventId: ids[2] },
    ])
    expect(run.closed).toMatchObject({ type: 'aborted' }) // the page left its loop at `done`
  }, 30_000)

  it('C33 a 204 answer to the reconnect stops the client: closed is no-content, no request follows', async () => {
    const hub = createHub<Events>({ heartbeat: false, retry: 50, retryJitter: 0 })
    let streams = 0
    const { seen } = await serve(async (res, method, path) => {
      if (method !== 'GET' || path !== '/api/ticks') return void res.writeHead(404).end()
      if (streams++ > 0) return void res.writeHead(204).end() // "do not reconnect"
      const stream = await openNodeStream(res.req, res, { hub })
      await hub.publish('token', { n: 1 })
      await hub.publish('token', { n: 2 })
      // The server ends the response after the events: the client reconnects, and is told 204.
      setTimeout(() => stream.close(), 50)
    })

    await page.evaluate(startInPage, { url: '/api/ticks', method: 'GET' })
    await page.waitForFunction(() => window.run.closed !== undefined, null, { timeout: 10_000 })
    // Well past maxDelay (200 ms): a client that kept going would have asked again by now.
    await new Promise((resolve) => setTimeout(resolve, 600))
    const run = await pageRun()
    expect(run.closed).toEqual({ type: 'no-content' })
    expect(run.events.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }])
    expect(run.requests.map((r) => [r.method, r.lastEventId])).toEqual([
      ['GET', null],
      ['GET', run.events[1]!.id],
    ])
    expect(seen).toHaveLength(2)
  }, 30_000)

  it('pauseWhenHidden: a hidden page holds no connection; shown again, it resumes from its last id with nothing lost or repeated', async () => {
    const hub = createHub<Events>({ heartbeat: false, retry: 50, retryJitter: 0 })
    const { seen } = await serve(async (res, method, path) => {
      if (method !== 'GET' || path !== '/api/ticks') return void res.writeHead(404).end()
      await openNodeStream(res.req, res, { hub })
    })
    const publish = async (from: number, to: number) => {
      for (let n = from; n <= to; n++) await hub.publish('token', { n })
    }
    await page.evaluate(startInPage, { url: '/api/ticks', method: 'GET', pauseWhenHidden: true })
    await vi.waitFor(() => expect(hub.size).toBe(1))
    await publish(1, 3)
    await page.waitForFunction(() => window.run.events.length === 3)
    await page.evaluate(setHidden, true)
    await vi.waitFor(() => expect(hub.size).toBe(0))
    await publish(4, 6)
    // Well past maxDelay (200 ms): a client that did not pause would have reconnected by now.
    await new Promise((resolve) => setTimeout(resolve, 600))
    expect(seen).toHaveLength(1)
    await page.evaluate(setHidden, false)
    await vi.waitFor(() => expect(hub.size).toBe(1))
    await hub.publish('done', { tokens: 6 })
    await page.waitForFunction(() => window.run.closed !== undefined)
    const run = await pageRun()
    expect(
      run.events.map((e) => (e.event === 'token' ? (e.data as { n: number }).n : e.event)),
    ).toEqual([1, 2, 3, 4, 5, 6, 'done'])
    expect(seen.map((s) => s.lastEventId)).toEqual([undefined, run.events[2]!.id])
  }, 30_000)
})
