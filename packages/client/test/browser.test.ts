// The client in headless Chromium (Debian's /usr/bin/chromium through playwright-core, never a
// downloaded browser), against @sse/core hub streams. Chromium's own fetch, ReadableStream and
// TextDecoder are exercised, which Node's tests cannot show. Without Chromium the suite skips
// with a warning; CI sets SSE_REQUIRE_BROWSER=1, which turns that skip into a failure.
import type { ServerResponse } from 'node:http'
import { createHub } from '@sse/core'
import { openNodeStream } from '@sse/core/node'
import { describeBrowser } from '@sse/test-utils'
import { expect, it, vi } from 'vitest'
import { type Events, setHidden, startInPage, useChromiumPage } from './browser-page'

describeBrowser('@sse/client in Chromium', () => {
  const chromium = useChromiumPage()

  it('C32 a POST stream cut server-side resumes with GET and Last-Event-ID at SSE-Resume: no event lost or repeated, no second POST', async () => {
    const hub = createHub<Events>({ heartbeat: false, retry: 50, retryJitter: 0 })
    const topics = ['answer-1']
    let post: ServerResponse | undefined
    const { seen } = await chromium.serve(async (res, method, path) => {
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

    await chromium.page.evaluate(startInPage, { url: '/api/answer', method: 'POST' })
    await vi.waitFor(() => expect(hub.size).toBe(1))
    await publish(1, 3)
    await chromium.page.waitForFunction(() => window.run.events.length === 3)
    // The cut: the socket is destroyed under the open response, as a crash or a proxy would,
    // and the next events are published while the page is away (a replay must bring them).
    post!.socket!.destroy()
    await publish(4, 6)
    await vi.waitFor(() => expect(seen).toHaveLength(2))
    await vi.waitFor(() => expect(hub.size).toBe(1))
    await publish(7, 8)
    await hub.publish('done', { tokens: 8 }, { topic: topics[0] })
    await chromium.page.waitForFunction(() => window.run.closed !== undefined)

    const run = await chromium.run()
    expect(
      run.events.map((e) => (e.event === 'token' ? (e.data as { n: number }).n : e.event)),
    ).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 'done'])
    const ids = run.events.map((e) => e.id)
    expect(new Set(ids).size).toBe(9)
    // What Chromium sent, seen from the page's fetch and from the server: one POST, then GET at
    // the named location with the id of the last event read before the cut.
    const resumeUrl = `${new URL(chromium.page.url()).origin}/api/streams/answer-1`
    expect(run.requests).toEqual([
      {
        method: 'POST',
        url: `${new URL(chromium.page.url()).origin}/api/answer`,
        lastEventId: null,
      },
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
    const { seen } = await chromium.serve(async (res, method, path) => {
      if (method !== 'GET' || path !== '/api/ticks') return void res.writeHead(404).end()
      if (streams++ > 0) return void res.writeHead(204).end() // "do not reconnect"
      const stream = await openNodeStream(res.req, res, { hub })
      await hub.publish('token', { n: 1 })
      await hub.publish('token', { n: 2 })
      // The server ends the response after the events: the client reconnects, and is told 204.
      setTimeout(() => stream.close(), 50)
    })

    await chromium.page.evaluate(startInPage, { url: '/api/ticks', method: 'GET' })
    await chromium.page.waitForFunction(() => window.run.closed !== undefined, null, {
      timeout: 10_000,
    })
    // Well past maxDelay (200 ms): a client that kept going would have asked again by now.
    await new Promise((resolve) => setTimeout(resolve, 600))
    const run = await chromium.run()
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
    const { seen } = await chromium.serve(async (res, method, path) => {
      if (method !== 'GET' || path !== '/api/ticks') return void res.writeHead(404).end()
      await openNodeStream(res.req, res, { hub })
    })
    const publish = async (from: number, to: number) => {
      for (let n = from; n <= to; n++) await hub.publish('token', { n })
    }
    await chromium.page.evaluate(startInPage, {
      url: '/api/ticks',
      method: 'GET',
      pauseWhenHidden: true,
    })
    await vi.waitFor(() => expect(hub.size).toBe(1))
    await publish(1, 3)
    await chromium.page.waitForFunction(() => window.run.events.length === 3)
    await chromium.page.evaluate(setHidden, true)
    await vi.waitFor(() => expect(hub.size).toBe(0))
    await publish(4, 6)
    // Well past maxDelay (200 ms): a client that did not pause would have reconnected by now.
    await new Promise((resolve) => setTimeout(resolve, 600))
    expect(seen).toHaveLength(1)
    await chromium.page.evaluate(setHidden, false)
    await vi.waitFor(() => expect(hub.size).toBe(1))
    await hub.publish('done', { tokens: 6 })
    await chromium.page.waitForFunction(() => window.run.closed !== undefined)
    const run = await chromium.run()
    expect(
      run.events.map((e) => (e.event === 'token' ? (e.data as { n: number }).n : e.event)),
    ).toEqual([1, 2, 3, 4, 5, 6, 'done'])
    expect(seen.map((s) => s.lastEventId)).toEqual([undefined, run.events[2]!.id])
  }, 30_000)
})
