// The client in a dedicated module worker in headless Chromium (Debian's /usr/bin/chromium
// through playwright-core), against @sse/core hub streams. The worker's script is served by the
// test's routes (/api/worker.mjs) and imports the client bundled for the browser (/client.mjs);
// it posts back every request it sends and every event it reads. A worker has no `document`
// (and no `window`): relative URLs resolve against the worker's location, and pauseWhenHidden
// has no page to follow. Without Chromium the suite skips with a warning; CI sets
// SSE_REQUIRE_BROWSER=1, which turns that skip into a failure.
import type { ServerResponse } from 'node:http'
import { createHub } from '@sse/core'
import { openNodeStream } from '@sse/core/node'
import { describeBrowser } from '@sse/test-utils'
import { expect, it, vi } from 'vitest'
import type * as Client from '../src/index'
import { type Events, type Run, type Seen, setHidden, useChromiumPage } from './browser-page'

/** What the worker is told to do; embedded in its script by the route that serves it. */
interface WorkerArgs {
  url: string
  method: string
  pauseWhenHidden: boolean
}

type WorkerMessage =
  | { type: 'started'; hasDocument: boolean; hasWindow: boolean }
  | { type: 'request'; request: Run['requests'][number] }
  | { type: 'event'; event: Run['events'][number] }
  | { type: 'closed'; reason: { type: string } }
  | { type: 'error'; message: string }

/** What the page heard from its worker, kept on `window.workerRun` so the test can poll it. */
interface WorkerRun {
  started?: { hasDocument: boolean; hasWindow: boolean }
  requests: Run['requests']
  events: Run['events']
  closed?: { type: string }
  errors: string[]
}

declare global {
  interface Window {
    workerRun: WorkerRun
  }
}

/**
 * The worker's body, serialized into its script (`/api/worker.mjs`): connects, and posts every
 * request, event and the close reason to the page. Runs in the worker, so it uses nothing from
 * this module's scope.
 */
function workerMain(client: typeof Client, args: WorkerArgs): void {
  const post = (message: WorkerMessage) =>
    (globalThis as unknown as { postMessage(message: WorkerMessage): void }).postMessage(message)
  post({
    type: 'started',
    hasDocument: typeof document !== 'undefined',
    hasWindow: typeof window !== 'undefined',
  })
  try {
    const stream = client.connect<Events>(args.url, {
      method: args.method,
      pauseWhenHidden: args.pauseWhenHidden,
      ...(args.method === 'POST' && { body: '{"prompt":"hi"}' }),
      minDelay: 50,
      maxDelay: 200,
      fetch: (url, init) => {
        const lastEventId = new Headers(init.headers).get('last-event-id')
        post({ type: 'request', request: { method: init.method ?? 'GET', url, lastEventId } })
        return fetch(url, init)
      },
    })
    void (async () => {
      try {
        for await (const { event, data, id } of stream) {
          post({ type: 'event', event: { event, data, id } })
          if (event === 'done') break
        }
        post({ type: 'closed', reason: { type: (await stream.closed).type } })
      } catch (error) {
        post({ type: 'error', message: String(error) })
      }
    })()
  } catch (error) {
    post({ type: 'error', message: String(error) })
  }
}

/** The worker's script: the bundled client, and {@link workerMain} called with `args`. */
function workerScript(args: WorkerArgs): string {
  return `import * as client from '/client.mjs'\n;(${workerMain.toString()})(client, ${JSON.stringify(args)})\n`
}

/** In the page: starts the worker at `/api/worker.mjs` and records what it posts. */
function startWorker(): void {
  const run: WorkerRun = { requests: [], events: [], errors: [] }
  window.workerRun = run
  const worker = new Worker('/api/worker.mjs', { type: 'module' })
  worker.onerror = (event) => void run.errors.push(`worker error: ${event.message}`)
  worker.onmessage = ({ data }: MessageEvent<WorkerMessage>) => {
    if (data.type === 'started')
      run.started = { hasDocument: data.hasDocument, hasWindow: data.hasWindow }
    else if (data.type === 'request') run.requests.push(data.request)
    else if (data.type === 'event') run.events.push(data.event)
    else if (data.type === 'closed') run.closed = data.reason
    else run.errors.push(data.message)
  }
}

const tokens = (run: WorkerRun) =>
  run.events.map((e) => (e.event === 'token' ? (e.data as { n: number }).n : e.event))
/** The stream's requests the server saw: the worker's script is not one of them. */
const streamRequests = (seen: Seen[]) => seen.filter((s) => s.path !== '/api/worker.mjs')

describeBrowser('@sse/client in a Chromium web worker', () => {
  const chromium = useChromiumPage()
  const workerRun = () => chromium.page.evaluate(() => window.workerRun)
  const waitInPage = (condition: () => boolean) =>
    chromium.page.waitForFunction(condition, null, { timeout: 10_000 })

  it('a GET stream read with for await in a worker, cut server-side, resumes with Last-Event-ID: nothing lost or repeated; pauseWhenHidden does not throw there and follows no page', async () => {
    const hub = createHub<Events>({ heartbeat: false, retry: 50, retryJitter: 0 })
    const args: WorkerArgs = { url: '/api/ticks', method: 'GET', pauseWhenHidden: true }
    let first: ServerResponse | undefined
    const { url, seen } = await chromium.serve(async (res, method, path) => {
      if (method === 'GET' && path === '/api/worker.mjs') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(workerScript(args))
      } else if (method === 'GET' && path === '/api/ticks') {
        first ??= res
        await openNodeStream(res.req, res, { hub })
      } else res.writeHead(404).end()
    })
    const publish = async (from: number, to: number) => {
      for (let n = from; n <= to; n++) await hub.publish('token', { n })
    }

    await chromium.page.evaluate(startWorker)
    await vi.waitFor(() => expect(hub.size).toBe(1))
    expect((await workerRun()).started).toEqual({ hasDocument: false, hasWindow: false })
    await publish(1, 3)
    await waitInPage(() => window.workerRun.events.length === 3)
    // The page goes hidden: the worker has no document to see it, so its connection stays, and
    // the reconnect after the cut is not held back (pauseWhenHidden only follows a page).
    await chromium.page.evaluate(setHidden, true)
    first!.socket!.destroy()
    await publish(4, 6)
    await vi.waitFor(() => expect(streamRequests(seen)).toHaveLength(2))
    await vi.waitFor(() => expect(hub.size).toBe(1))
    await publish(7, 8)
    await hub.publish('done', { tokens: 8 })
    await waitInPage(() => window.workerRun.closed !== undefined)

    const run = await workerRun()
    expect(run.errors).toEqual([])
    expect(tokens(run)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 'done'])
    const ids = run.events.map((e) => e.id)
    expect(new Set(ids).size).toBe(9)
    // The relative URL resolved against the worker's location; the reconnect carried the id of
    // the last event read before the cut.
    expect(run.requests).toEqual([
      { method: 'GET', url: `${url}/api/ticks`, lastEventId: null },
      { method: 'GET', url: `${url}/api/ticks`, lastEventId: ids[2] },
    ])
    expect(streamRequests(seen)).toEqual([
      { method: 'GET', path: '/api/ticks', lastEventId: undefined },
      { method: 'GET', path: '/api/ticks', lastEventId: ids[2] },
    ])
    expect(run.closed).toEqual({ type: 'aborted' }) // the worker left its loop at `done`
  }, 30_000)

  it('a POST stream in a worker, cut server-side, resumes with GET at its SSE-Resume location: no second POST, nothing lost or repeated', async () => {
    const hub = createHub<Events>({ heartbeat: false, retry: 50, retryJitter: 0 })
    const topics = ['answer-1']
    const args: WorkerArgs = { url: '/api/answer', method: 'POST', pauseWhenHidden: false }
    let post: ServerResponse | undefined
    const { url, seen } = await chromium.serve(async (res, method, path) => {
      if (method === 'GET' && path === '/api/worker.mjs') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(workerScript(args))
      } else if (method === 'POST' && path === '/api/answer') {
        post = res
        // Relative to the request's URL: the worker resumes at /api/streams/answer-1.
        res.setHeader('SSE-Resume', 'streams/answer-1')
        await openNodeStream(res.req, res, { hub, topics })
      } else if (method === 'GET' && path === '/api/streams/answer-1') {
        await openNodeStream(res.req, res, { hub, topics })
      } else res.writeHead(404).end()
    })
    const publish = async (from: number, to: number) => {
      for (let n = from; n <= to; n++) await hub.publish('token', { n }, { topic: topics[0] })
    }

    await chromium.page.evaluate(startWorker)
    await vi.waitFor(() => expect(hub.size).toBe(1))
    await publish(1, 3)
    await waitInPage(() => window.workerRun.events.length === 3)
    post!.socket!.destroy()
    await publish(4, 6)
    await vi.waitFor(() => expect(streamRequests(seen)).toHaveLength(2))
    await vi.waitFor(() => expect(hub.size).toBe(1))
    await publish(7, 8)
    await hub.publish('done', { tokens: 8 }, { topic: topics[0] })
    await waitInPage(() => window.workerRun.closed !== undefined)

    const run = await workerRun()
    expect(run.errors).toEqual([])
    expect(tokens(run)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 'done'])
    const ids = run.events.map((e) => e.id)
    expect(new Set(ids).size).toBe(9)
    expect(run.requests).toEqual([
      { method: 'POST', url: `${url}/api/answer`, lastEventId: null },
      { method: 'GET', url: `${url}/api/streams/answer-1`, lastEventId: ids[2] },
    ])
    expect(streamRequests(seen)).toEqual([
      { method: 'POST', path: '/api/answer', lastEventId: undefined },
      { method: 'GET', path: '/api/streams/answer-1', lastEventId: ids[2] },
    ])
    expect(run.closed).toEqual({ type: 'aborted' })
  }, 30_000)
})
