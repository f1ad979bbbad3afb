// The Vercel AI SDK's useChat (@ai-sdk/react, with resume on) in headless Chromium, reading a
// chat answer that the server writes to a @sse/core durable stream: a reload in the middle of
// the answer resumes it through the SDK's reconnect request, and the page shows the whole
// answer once, with the prompt POSTed once and the model run once. The model is the `ai`
// package's test model: no network. Without Chromium the suite skips with a warning; CI sets
// SSE_REQUIRE_BROWSER=1, which turns that skip into a failure.
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import { CHROMIUM, CHROMIUM_ARGS, describeBrowser, listen } from '@sse/test-utils'
import { build } from 'esbuild'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
// The AI SDK guide's chat routes and the `ai` package's test model, as core's AI SDK test has them.
import { aiChatRoutes, testModel, WORDS } from '../../core/test/ai-chat'

const title = "the AI SDK's useChat resumes a durable answer in Chromium"

const PAGE = `<!doctype html><meta charset="utf-8"><title>useChat</title>
<div id="root"></div><script type="module" src="/app.mjs"></script>`

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
    const routes = aiChatRoutes(mock)
    const { requests } = routes
    const server = createServer(async (req, res) => {
      if (req.url === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE)
      if (req.url === '/app.mjs')
        return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle)
      await routes.listener(req, res)
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
      await routes.hub.shutdown({ grace: 0 })
      await listening.close()
    }
  }, 30_000)
})
