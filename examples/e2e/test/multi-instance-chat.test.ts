import { mkdirSync } from 'node:fs'
import { describeBrowser } from '@sse/test-utils'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type Route, type RunningProxy, startProxy } from '../../multi-instance/src/proxy.ts'
import { tokensOf } from '../../shared/src/chat.ts'
import { ARGS, CHROMIUM, outputDir } from './browser.ts'
import { type RunningExample, startExample } from './examples.ts'
import { describeRedis, type RedisServer, startRedis } from './redis.ts'

// About 300 tokens, one every 30 ms: 9 s of answer to move between instances in. With 3 s, a
// loaded CI machine took so long to fail over that the answer ended before its reader died.
const PROMPT = Array.from({ length: 240 }, (_, i) => `w${i}`).join(' ')
const ANSWER = tokensOf(PROMPT).join('')
// Readers learn of a dead producer within twice the lease.
const env = { TICK_MS: '200', TOKEN_MS: '30', CHAT_LEASE_MS: '1000' }

describeRedis('examples/multi-instance: a durable chat answer across instances', () => {
  describeBrowser('in Chromium, behind the proxy', () => {
    let redis: RedisServer
    let proxy: RunningProxy
    let browser: Browser
    const apps: RunningExample[] = []
    const routes: Route[] = []

    async function instance(name: string) {
      const app = await startExample('multi-instance', {
        ...env,
        REDIS_URL: redis.url,
        INSTANCE: name,
      })
      apps.push(app)
      return app
    }

    beforeAll(async () => {
      mkdirSync(outputDir, { recursive: true })
      redis = await startRedis()
      ;[browser] = await Promise.all([
        chromium.launch({ executablePath: CHROMIUM, args: ARGS }),
        instance('a'),
        instance('b'),
      ])
      proxy = await startProxy({
        upstreams: apps.map((app) => app.port),
        onRoute: (r) => routes.push(r),
      })
    }, 90_000)

    afterAll(async () => {
      await browser?.close()
      await proxy?.close()
      await Promise.all(apps.map((app) => app.stop()))
      await redis?.stop()
    }, 30_000)

    /** A page behind the proxy that asks; resolves once some tokens are shown. */
    async function ask(page: Page) {
      const posts: string[] = []
      page.on('request', (request) => {
        if (request.method() === 'POST' && new URL(request.url()).pathname === '/chat')
          posts.push(request.url())
      })
      await page.goto(proxy.url)
      await page.fill('#chat-prompt', PROMPT)
      await page.click('#chat-form button[type=submit]')
      await page.waitForFunction(
        () => (document.getElementById('chat-answer')?.textContent ?? '').length > 40,
        null,
        { timeout: 10_000 },
      )
      return posts
    }

    const lastChatGet = () => routes.filter((r) => /^GET \/chat\/\S+ /.test(r.request)).at(-1)

    it('the reader’s instance is killed: the page resumes on the other, every token once', async () => {
      const [producer, reader] = apps as [RunningExample, RunningExample]
      const page = await browser.newPage()
      proxy.use([producer.port]) // the POST, so the producer, on `a`
      const posts = await ask(page)
      // Its clients fail over to `b`: the page's answer is read there from now on.
      proxy.use([reader.port])
      proxy.cut(producer.port)
      const moved = Date.now()
      while (lastChatGet()?.upstream !== reader.port && Date.now() - moved < 10_000) {
        await page.waitForTimeout(50)
      }
      expect(lastChatGet()?.upstream).toBe(reader.port)
      // The answer must still be running when its reader dies, or nothing is tested.
      expect(await page.locator('#chat-meta', { hasText: /^\d+ tokens$/ }).count()).toBe(0)
      // Now the reader dies; the proxy reaches only the producer's instance.
      proxy.use()
      await reader.kill()
      await page.locator('#chat-meta', { hasText: /^\d+ tokens$/ }).waitFor({ timeout: 20_000 })
      expect(await page.textContent('#chat-answer')).toBe(ANSWER)
      expect(lastChatGet()?.upstream).toBe(producer.port)
      expect(posts).toHaveLength(1)
      await page.screenshot({ path: `${outputDir}multi-instance-chat-resume.png`, fullPage: true })
      await page.close()
    }, 60_000)

    it('the producer’s instance is killed: the page says so within twice the lease, no hang', async () => {
      const producer = apps[0]!
      const other = await instance('c')
      const page = await browser.newPage()
      proxy.use([producer.port])
      await ask(page)
      proxy.use([other.port])
      await producer.kill()
      const killed = Date.now()
      const meta = page.locator('#chat-meta', { hasText: 'producer-lost' })
      await meta.waitFor({ timeout: 10_000 })
      // The lease (1 s), its reap by the reader's sweep, and the client's reconnect delay.
      expect(Date.now() - killed).toBeLessThan(6000)
      const shown = (await page.textContent('#chat-answer'))!
      expect(shown.length).toBeLessThan(ANSWER.length)
      expect(ANSWER.startsWith(shown)).toBe(true)
      expect(await meta.textContent()).toMatch(/went away/)
      await page.screenshot({ path: `${outputDir}multi-instance-chat-lost.png`, fullPage: true })
      await page.close()
    }, 60_000)
  })
})
