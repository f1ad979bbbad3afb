import { existsSync, mkdirSync } from 'node:fs'
import { openStream, type StreamClient } from '@sse/test-utils'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type Route, type RunningProxy, startProxy } from '../../multi-instance/src/proxy.ts'
import { ARGS, CHROMIUM, outputDir, type Recorded, record } from './browser.ts'
import { type RunningExample, startExample } from './examples.ts'
import { describeRedis, type RedisServer, startRedis } from './redis.ts'

const title = 'examples/multi-instance: the demo page behind the proxy, in Chromium'

describeRedis(title, () => {
  if (!existsSync(CHROMIUM)) {
    const message = `no Chromium at ${CHROMIUM}: install it with \`apt-get install chromium\``
    if (process.env.SSE_REQUIRE_BROWSER === '1') {
      it('needs Chromium (SSE_REQUIRE_BROWSER=1)', () => {
        throw new Error(`Browser tests required but ${message}`)
      })
    } else {
      console.warn(`\n*** ${title}: SKIPPED, ${message} ***\n`)
      it.skip(`runs in Chromium (skipped: ${message})`, () => {})
    }
    return
  }

  let redis: RedisServer
  let proxy: RunningProxy
  let browser: Browser
  let reference: StreamClient | undefined
  const apps: RunningExample[] = []
  const routes: Route[] = []

  beforeAll(async () => {
    mkdirSync(outputDir, { recursive: true })
    redis = await startRedis()
    const env = { REDIS_URL: redis.url, TICK_MS: '200' }
    const [started] = await Promise.all([
      Promise.all([
        startExample('multi-instance', { ...env, INSTANCE: 'a' }),
        startExample('multi-instance', { ...env, INSTANCE: 'b' }),
      ]),
      chromium.launch({ executablePath: CHROMIUM, args: ARGS }).then((b) => {
        browser = b
      }),
    ])
    apps.push(...started)
    proxy = await startProxy({
      upstreams: apps.map((app) => app.port),
      onRoute: (route) => routes.push(route),
    })
  }, 90_000)

  afterAll(async () => {
    reference?.close()
    await browser?.close()
    await proxy?.close()
    await Promise.all(apps.map((app) => app.stop()))
    await redis?.stop()
  }, 30_000)

  function recorded(page: Page): Promise<Recorded> {
    return page.evaluate(() => window.recorded)
  }

  async function notifyFromPage(page: Page, text: string, shown: number) {
    await page.fill('#notify-text', text)
    await page.click('#notify-form button')
    await page.waitForFunction(
      (count) => document.querySelectorAll('#notifications li').length >= count,
      shown,
      { timeout: 20_000 },
    )
  }

  it('the instance serving the page is killed: the page resumes on the other, nothing lost', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 640 } })
    await page.addInitScript(record)
    await page.goto(proxy.url)
    await page.locator('#state', { hasText: 'open' }).waitFor({ timeout: 20_000 })
    await page.waitForFunction(() => window.recorded.ticks.length >= 5, null, { timeout: 20_000 })
    await notifyFromPage(page, 'sent before the crash', 1)

    // The instance the page's stream is on (the proxy logs every request line it passes on).
    const stream = routes.filter((r) => r.request.startsWith('GET /events')).at(-1)!
    const victim = apps.find((app) => app.port === stream.upstream)!
    const survivor = apps.find((app) => app !== victim)!
    await victim.kill()
    // Published while the page is away (its EventSource waits `retry`, 1 s, to reconnect).
    for (const text of ['sent while the page was away', 'also sent while away']) {
      const response = await fetch(`${survivor.url}/notify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
      })
      expect(response.status).toBe(202)
    }
    await page.waitForFunction(() => window.recorded.opens.length >= 2, null, { timeout: 20_000 })
    await page.waitForFunction(
      () => document.querySelectorAll('#notifications li').length >= 3,
      null,
      { timeout: 20_000 },
    )
    // Through the proxy again, which now only reaches the survivor.
    await notifyFromPage(page, 'sent after the failover', 4)
    // The ticks go on after the reconnect, from the survivor once it holds the tick lease.
    await page.waitForFunction(
      () =>
        window.recorded.ticks.filter((tick) => tick.at > window.recorded.opens.at(-1)!).length >= 5,
      null,
      { timeout: 20_000 },
    )
    await page.locator('#state', { hasText: 'open' }).waitFor({ timeout: 20_000 })

    const { opens, ticks, lost } = await recorded(page)
    expect(opens).toHaveLength(2)
    expect(Number(await page.textContent('#reconnects'))).toBe(1)
    expect(lost).toEqual([])
    expect(await page.isVisible('#lost')).toBe(false)
    const shown = await page.locator('#notifications li span').allTextContents()
    expect(shown).toEqual([
      'sent after the failover',
      'also sent while away',
      'sent while the page was away',
      'sent before the crash',
    ])
    const ids = ticks.map((tick) => tick.id)
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]!.n).toBeGreaterThan(ticks[i - 1]!.n)
    // Ticks and notifications from both instances: no id twice.
    const all = (await recorded(page)).ids
    expect(new Set(all).size).toBe(all.length)

    // No gap: the survivor's ticks after the page's first are exactly the ones the page got.
    reference = await openStream(
      { url: survivor.url, http2: false },
      { headers: { 'last-event-id': ids[0]! } },
    )
    expect(reference.headers['sse-replay']).toBe('complete')
    const tickIds = () =>
      reference!
        .events()
        .filter((event) => event.event === 'tick')
        .map((event) => event.id)
    await reference.waitForEvents(ids.length + 3, { timeout: 10_000 })
    expect(tickIds().slice(0, ids.length - 1)).toEqual(ids.slice(1))
    await page.screenshot({ path: `${outputDir}multi-instance-failover.png`, fullPage: true })
    await page.close()
  }, 90_000)
})
