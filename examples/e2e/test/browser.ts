import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { CHROMIUM, CHROMIUM_ARGS, describeBrowser } from '@sse/test-utils'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ExampleName, type RunningExample, startExample } from './examples.ts'

export { CHROMIUM }
export const ARGS = [
  ...CHROMIUM_ARGS,
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
]
export const outputDir = fileURLToPath(new URL('../test-output/', import.meta.url))

/** What the page's EventSource received, recorded by {@link record}. */
export interface Recorded {
  /** When each (re)connection opened. */
  opens: number[]
  ticks: { n: number; id: string; at: number }[]
  notifications: { text: string; id: string }[]
  /** The id of every tick and notification, in the order they arrived. */
  ids: string[]
  /** `history-lost` events, with the targets they name and how many ticks had arrived before. */
  lost: { lastEventId: string | null; targets: unknown; ticksBefore: number }[]
}

declare global {
  interface Window {
    recorded: Recorded
  }
}

/**
 * Runs in the page before its script: wraps the browser's own EventSource so the test sees
 * every event it dispatched, however often it reconnected. The page itself is not changed.
 */
export function record() {
  const recorded: Recorded = { opens: [], ticks: [], notifications: [], ids: [], lost: [] }
  window.recorded = recorded
  const Native = window.EventSource
  window.EventSource = class extends Native {
    constructor(url: string | URL, init?: EventSourceInit) {
      super(url, init)
      this.addEventListener('open', () => recorded.opens.push(Date.now()))
      this.addEventListener('tick', (event) => {
        const { n } = JSON.parse(event.data)
        recorded.ticks.push({ n, id: event.lastEventId, at: Date.now() })
        recorded.ids.push(event.lastEventId)
      })
      this.addEventListener('notification', (event) => {
        const { text } = JSON.parse(event.data)
        recorded.notifications.push({ text, id: event.lastEventId })
        recorded.ids.push(event.lastEventId)
      })
      this.addEventListener('history-lost', (event) => {
        const { lastEventId, lost } = JSON.parse(event.data)
        recorded.lost.push({ lastEventId, targets: lost, ticksBefore: recorded.ticks.length })
      })
    }
  }
}

export function consecutive(ns: number[]): number[] {
  return ns.map((_, i) => ns[0]! + i)
}

/**
 * The demo page in headless Chromium, against one example: it connects and shows ticks and
 * notifications; with a short `STREAM_LIFETIME_MS` its EventSource reconnects many times and
 * gets every tick exactly once; after a server restart it reconnects, no id repeats and the
 * lost history is shown. Screenshots go to `examples/e2e/test-output/`.
 *
 * Skips with a loud warning when `/usr/bin/chromium` is missing, fails if `SSE_REQUIRE_BROWSER=1`.
 */
export function browserSuite(name: ExampleName): void {
  // Concurrent: each test has its own server and page, and mostly waits on the stream's timers.
  describeBrowser(
    `examples/${name}: the demo page in Chromium`,
    () => {
      let browser: Browser
      const apps: RunningExample[] = []

      async function start(env: Record<string, string>) {
        const app = await startExample(name, env)
        apps.push(app)
        return app
      }

      async function openPage(url: string): Promise<Page> {
        const page = await browser.newPage({ viewport: { width: 1000, height: 640 } })
        await page.addInitScript(record)
        await page.goto(url)
        return page
      }

      function recorded(page: Page): Promise<Recorded> {
        return page.evaluate(() => window.recorded)
      }

      beforeAll(async () => {
        mkdirSync(outputDir, { recursive: true })
        browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
      }, 60_000)

      afterAll(async () => {
        await browser?.close()
        await Promise.all(apps.map((app) => app.stop()))
      }, 30_000)

      it('connects, shows ticks, a posted notification and a streamed chat answer', async () => {
        const app = await start({ TICK_MS: '200' })
        const page = await openPage(app.url)
        await page.locator('#state', { hasText: 'open' }).waitFor({ timeout: 20_000 })
        await page.waitForFunction(() => window.recorded.ticks.length >= 5, null, {
          timeout: 20_000,
        })
        expect(await page.textContent('#tick-count')).toMatch(/^n = \d+$/)
        await page.fill('#notify-text', 'Hello from Chromium')
        await page.click('#notify-form button')
        const notification = page.locator('#notifications li', { hasText: 'Hello from Chromium' })
        await notification.waitFor({ timeout: 20_000 })
        // The notification is an event of the stream: the page shows the id it came with.
        const shownId = (await notification.locator('small').textContent())?.match(/id (\S+)$/)?.[1]
        expect(shownId).toBeDefined()
        await page.fill('#chat-prompt', 'what does this page show?')
        await page.click('#chat-form button')
        await page.locator('#chat-meta', { hasText: /^\d+ tokens$/ }).waitFor({ timeout: 20_000 })
        expect(await page.textContent('#chat-answer')).toContain('"what does this page show?"')
        expect(await page.isVisible('#lost')).toBe(false)
        const { ticks, notifications, ids } = await recorded(page)
        expect(notifications).toEqual([{ text: 'Hello from Chromium', id: shownId }])
        // One stream, one history: the notification came after the first tick, and no two events
        // of the stream share an id.
        expect(ids.indexOf(shownId!)).toBeGreaterThan(ids.indexOf(ticks[0]!.id))
        expect(new Set(ids).size).toBe(ids.length)
        await page.screenshot({ path: `${outputDir}${name}-demo.png`, fullPage: true })
        await page.close()
      }, 60_000)

      it('with a short STREAM_LIFETIME_MS, reconnects many times and gets every tick exactly once', async () => {
        const app = await start({ TICK_MS: '100', STREAM_LIFETIME_MS: '400' })
        const page = await openPage(app.url)
        await page.waitForFunction(() => window.recorded.opens.length >= 4, null, {
          timeout: 40_000,
        })
        // The page stays usable meanwhile, and a notification shows once however often it reconnects.
        await page.fill('#notify-text', 'Posted while the stream keeps reconnecting')
        await page.click('#notify-form button')
        await page.fill('#chat-prompt', 'how does the page resume?')
        await page.click('#chat-form button')
        await page.locator('#notifications li').waitFor({ timeout: 20_000 })
        await page.locator('#chat-meta', { hasText: /^\d+ tokens$/ }).waitFor({ timeout: 20_000 })
        await page.waitForFunction(() => window.recorded.opens.length >= 7, null, {
          timeout: 40_000,
        })
        // A live tick after the last reconnect: the replay of what it missed is complete.
        await page.waitForFunction(
          () => (window.recorded.ticks.at(-1)?.at ?? 0) > window.recorded.opens.at(-1)!,
          null,
          { timeout: 20_000 },
        )
        const [{ opens, ticks }, reconnects] = await Promise.all([
          recorded(page),
          page.textContent('#reconnects'),
        ])
        expect(Number(reconnects)).toBeGreaterThanOrEqual(6)
        expect(opens.length).toBeGreaterThanOrEqual(7)
        const ns = ticks.map((tick) => tick.n)
        expect(ns.length).toBeGreaterThan(30)
        expect(ns).toEqual(consecutive(ns))
        expect(await page.locator('#notifications li').count()).toBe(1)
        expect(await page.isVisible('#lost')).toBe(false)
        await page.screenshot({ path: `${outputDir}${name}-reconnects.png`, fullPage: true })
        await page.close()
      }, 90_000)

      it('after a server restart, reconnects with its last id, shows the lost history, and no id repeats', async () => {
        const first = await start({ TICK_MS: '200' })
        const page = await openPage(first.url)
        await page.waitForFunction(() => window.recorded.ticks.length >= 3, null, {
          timeout: 20_000,
        })
        await first.stop()
        const before = (await recorded(page)).ticks.map((tick) => tick.id)
        await page
          .locator('#state', { hasText: /reconnecting|closed/ })
          .waitFor({ timeout: 20_000 })

        await start({ TICK_MS: '200', PORT: String(first.port) })
        await page.waitForFunction(
          () => {
            const { lost, ticks } = window.recorded
            return lost.length > 0 && ticks.length >= lost[0]!.ticksBefore + 3
          },
          null,
          { timeout: 40_000 },
        )
        const { lost, ticks, ids: all } = await recorded(page)
        expect(lost).toHaveLength(1)
        // The reconnect carried the last id the page saw; the new server cannot resume from it.
        expect(lost[0]).toEqual({
          lastEventId: before.at(-1),
          targets: [{}],
          ticksBefore: before.length,
        })
        const banner = page.locator('#lost')
        expect(await banner.isVisible()).toBe(true)
        expect(await banner.textContent()).toContain(before.at(-1))
        const ids = ticks.map((tick) => tick.id)
        expect(ids.slice(0, before.length)).toEqual(before)
        // The new server's ids are not the old one's: none repeats, across the restart too.
        expect(new Set(all).size).toBe(all.length)
        // The restarted server counts from 1 again: its ticks are new events, not a replay.
        expect(ticks[before.length]!.n).toBe(1)
        await page.locator('#state', { hasText: 'open' }).waitFor({ timeout: 20_000 })
        await page.screenshot({ path: `${outputDir}${name}-restart.png`, fullPage: true })
        await page.close()
      }, 90_000)
    },
    describe.concurrent,
  )
}
