// The Vercel AI SDK's useChat (@ai-sdk/react, with resume on) in headless Chromium, reading a
// chat answer that the server writes to a @sse/core durable stream: a reload in the middle of
// the answer resumes it through the SDK's reconnect request, and the page shows the whole
// answer once, with the prompt POSTed once and the model run once. The model is the `ai`
// package's test model: no network. Without Chromium the suite skips with a warning; CI sets
// SSE_REQUIRE_BROWSER=1, which turns that skip into a failure.
import { createServer, type IncomingMessage } from 'node:http'
import { fileURLToPath } from 'node:url'
import { createDurableStreams, createHub } from '@sse/core'
import { openNodeStream } from '@sse/core/node'
import { CHROMIUM, CHROMIUM_ARGS, describeBrowser, listen } from '@sse/test-utils'
import { streamText, type UIMessage } from 'ai'
import { build } from 'esbuild'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
// The `ai` package's test model, as core's AI SDK test streams it.
import { testModel, WORDS } from '../../core/test/ai-model'

const title = "the AI SDK's useChat resumes a durable answer in Chromium"

const PAGE = `<!doctype html><meta charset="utf-8"><title>useChat</title>
<div id="root"></div><script type="module" src="/app.mjs"></script>`

async function json(req: IncomingMessage): Promise<{ id: string; messages: UIMessage[] }> {
  let text = ''
  for await (const chunk of req) text += chunk
  return JSON.parse(text)
}

let bundle: string
let browser: Browser

describeBrowser(title, () => {
  beforeAll(async () => {
    const out = await build({
      entryPoints: [fileURLToPath(new URL('./fixtures/use-chat.ts', import.meta.url))],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      define: { 'process.env.NODE_ENV': '"production"' },
      write: false,
    })
    bundle = out.outputFiles[0]!.text
    browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS] })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
  })

  it('a reload mid-answer resumes it: the whole answer once, one POST, one model run', async () => {
    const { mock, runs } = testModel(40)
    const hub = createHub()
    const chats = createDurableStreams(hub, { location: (id) => `/api/streams/${id}` })
    // The app's record of each chat's running answer (a database column in a real app).
    const active = new Map<string, string>()
    const requests: string[] = []
    const server = createServer(async (req, res) => {
      const url = new URL(req.url!, 'http://localhost')
      if (url.pathname === '/')
        return void res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE)
      if (url.pathname === '/app.mjs')
        return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle)
      requests.push(`${req.method} ${url.pathname}`)
      if (req.method === 'POST' && url.pathname === '/api/chat') {
        const { id: chatId, messages } = await json(req)
        const run = await chats.start({
          produce: async (out, signal) => {
            try {
              const prompt = messages
                .flatMap((m) => m.parts.map((p) => (p.type === 'text' ? p.text : '')))
                .join('\n')
              const result = streamText({ model: mock, prompt, abortSignal: signal })
              await out.pipe(result.toUIMessageStream(), { map: (chunk) => ({ data: chunk }) })
              return '[DONE]'
            } finally {
              active.delete(chatId)
            }
          },
        })
        active.set(chatId, run.id)
        const headers = { 'x-vercel-ai-ui-message-stream': 'v1' }
        return void openNodeStream(req, res, { durable: run, headers })
      }
      const resume = /^\/api\/chat\/([^/]+)\/stream$/.exec(url.pathname)
      const id = resume && active.get(decodeURIComponent(resume[1]!))
      if (!id) return void res.writeHead(204).end()
      void openNodeStream(req, res, { durable: chats.get(id) })
    })
    const listening = await listen(server)
    const page = await browser.newPage()
    try {
      await page.goto(`${listening.url}/`)
      // On load the hook asks to resume; nothing runs yet, so the app answers 204.
      await vi.waitFor(() => expect(requests).toContain('GET /api/chat/chat-1/stream'))
      const onLoad = requests.length
      await page.waitForFunction(() => window.status === 'ready')
      await page.evaluate(() => window.send('hi'))
      await page.waitForFunction(() => window.answer.length >= 30)
      const before = await page.evaluate(() => window.answer)
      expect(before.length).toBeLessThan(WORDS.join('').length)
      await page.reload()
      await page.waitForFunction(
        () => window.status === 'ready' && window.answer.length > 0,
        null,
        {
          timeout: 15_000,
        },
      )
      expect(await page.evaluate(() => window.answer)).toBe(WORDS.join(''))
      expect(requests.filter((r) => r.startsWith('POST'))).toEqual(['POST /api/chat'])
      // After the reload, the hook asked to resume, and got the running answer.
      expect(requests.slice(onLoad + 1)).toContain('GET /api/chat/chat-1/stream')
      expect(runs()).toBe(1)
    } finally {
      await page.close()
      await hub.shutdown({ grace: 0 })
      await listening.close()
    }
  }, 30_000)
})
