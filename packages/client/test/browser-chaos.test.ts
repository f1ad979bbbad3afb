// Reliability of the client in Chromium: durable answers started by POST, cut by the server
// 1,000 times while the page is hidden and shown at random (`pauseWhenHidden`). Every answer
// must arrive whole, each token once and in order, with one POST per answer.
import type { ServerResponse } from 'node:http'
import { createDurableStreams, createHub } from '@sse/core'
import { openNodeStream } from '@sse/core/node'
import { describeBrowser, sleep } from '@sse/test-utils'
import { expect, it } from 'vitest'
import { setHidden, useChromiumPage } from './browser-page'

const ANSWERS = 20
const CUTS = 1_000

type Answer = { token: { n: number }; done: { tokens: number } }

/** What one answer's reader in the page saw. */
interface Reader {
  tokens: number[]
  done?: { tokens: number }
  closed?: string
}

declare global {
  interface Window {
    readers: Reader[]
  }
}

/** Starts `count` answers in the page, each by one POST, read with `for await`. */
function startAnswers(count: number): void {
  window.readers = []
  for (let i = 0; i < count; i++) {
    const reader: Reader = { tokens: [] }
    window.readers.push(reader)
    const stream = window.sseClient.connect<Answer>('/api/chat', {
      method: 'POST',
      body: JSON.stringify({ prompt: `question ${i}` }),
      pauseWhenHidden: true,
      minDelay: 10,
      maxDelay: 50,
    })
    void (async () => {
      for await (const event of stream) {
        if (event.event === 'token') reader.tokens.push(event.data.n)
        if (event.event === 'done') {
          reader.done = event.data
          break
        }
      }
      reader.closed = (await stream.closed).type
    })()
  }
}

describeBrowser('@sse/client in Chromium: chaos', () => {
  const chromium = useChromiumPage()

  it(`${CUTS} server-side cuts of ${ANSWERS} POST-started durable answers, the page hidden and shown at random: 0 second POSTs, 0 tokens lost or repeated, every answer done`, async () => {
    const hub = createHub<Answer>({ heartbeat: false, retry: 20 })
    const chats = createDurableStreams(hub, { location: (id) => `/api/chat/${id}` })
    const open = new Set<ServerResponse>()
    let cuts = 0
    let posts = 0
    let gets = 0
    const { seen } = await chromium.serve(async (res, method, path) => {
      open.add(res)
      res.on('close', () => open.delete(res))
      if (method === 'POST' && path === '/api/chat') {
        posts++
        const run = await chats.start({
          // Tokens until the test has made its cuts, then done.
          produce: async (out) => {
            let n = 0
            while (cuts < CUTS) {
              await out.send('token', { n: n++ })
              await sleep(5)
            }
            return { tokens: n }
          },
        })
        return openNodeStream(res.req, res, { durable: run })
      }
      if (method === 'GET' && path.startsWith('/api/chat/')) {
        gets++
        return openNodeStream(res.req, res, { durable: chats.get(path.slice(10)) })
      }
      res.writeHead(404).end()
    })

    const started = performance.now()
    await chromium.page.evaluate(startAnswers, ANSWERS)
    let hidden = false
    let hides = 0
    let nextToggle = performance.now() + 100
    while (cuts < CUTS) {
      // Shown for 50-300 ms, hidden for 20-100 ms, at random.
      if (performance.now() >= nextToggle) {
        hidden = !hidden
        if (hidden) hides++
        await chromium.page.evaluate(setHidden, hidden)
        nextToggle =
          performance.now() + (hidden ? 20 + Math.random() * 80 : 50 + Math.random() * 250)
      }
      // A cut every 10 ms on average, of a response chosen at random (POSTs and GETs alike).
      const responses = [...open].filter((res) => res.headersSent && !res.writableEnded)
      if (responses.length > 0) {
        responses[Math.floor(Math.random() * responses.length)]!.socket?.destroy()
        cuts++
      }
      await sleep(Math.random() * 20)
    }
    await chromium.page.evaluate(setHidden, false)
    await chromium.page.waitForFunction(
      (count) => window.readers.filter((r) => r.closed !== undefined).length === count,
      ANSWERS,
      { timeout: 30_000 },
    )
    const readers = await chromium.page.evaluate(() => window.readers)
    const ms = performance.now() - started

    let lost = 0
    let repeated = 0
    let outOfOrder = 0
    let tokens = 0
    for (const reader of readers) {
      const count = reader.done?.tokens ?? Number.NaN
      tokens += reader.tokens.length
      repeated += reader.tokens.length - new Set(reader.tokens).size
      lost += count - new Set(reader.tokens).size
      outOfOrder += reader.tokens.filter((n, i) => i > 0 && n <= reader.tokens[i - 1]!).length
    }
    console.log(
      `[figure] client chaos | Chromium, ${ANSWERS} durable answers | cuts=${cuts} hides=${hides} posts=${posts} resumes=${gets} tokens=${tokens} lost=${lost} repeated=${repeated} outOfOrder=${outOfOrder} ms=${ms.toFixed(0)}`,
    )
    expect(cuts).toBeGreaterThanOrEqual(CUTS)
    expect(hides).toBeGreaterThan(10)
    expect(posts).toBe(ANSWERS)
    expect(seen.filter((s) => s.method === 'POST')).toHaveLength(ANSWERS)
    expect({ lost, repeated, outOfOrder }).toEqual({ lost: 0, repeated: 0, outOfOrder: 0 })
    expect(readers.map((r) => r.done !== undefined)).toEqual(readers.map(() => true))
    // Resumes carry the last id read (without one, when cut before the first token, the
    // stream replays from its start): most of them do.
    const withId = seen.filter((s) => s.method === 'GET' && s.lastEventId !== undefined).length
    expect(withId).toBeGreaterThan(0.9 * gets)
  }, 120_000)
})
