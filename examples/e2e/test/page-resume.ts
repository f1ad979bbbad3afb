import { describeBrowser } from '@sse/test-utils'
import { type Browser, chromium, type Page, type Request } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { tokensOf } from '../../shared/src/chat.ts'
import { ARGS, CHROMIUM, consecutive, outputDir, type Recorded, record } from './browser.ts'
import { type ExampleName, type RunningExample, startExample } from './examples.ts'

// About 60 tokens, one every 30 ms: long enough to reload in the middle, short for the suite.
const PROMPT = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ')
const ANSWER = tokensOf(PROMPT).join('')

/** The requests of a page to one path, kept as method, URL and Last-Event-ID. */
function requestsTo(page: Page, path: RegExp) {
  const seen: { method: string; url: string; lastEventId: string | undefined }[] = []
  page.on('request', (request: Request) => {
    if (!path.test(new URL(request.url()).pathname)) return
    seen.push({
      method: request.method(),
      url: request.url(),
      lastEventId: request.headers()['last-event-id'],
    })
  })
  return seen
}

/**
 * The page's resumes in Chromium, against one example: a reload in the middle of a chat answer
 * continues the same answer (every token once, the prompt POSTed once), and Stop/Start on the
 * event stream resumes from the kept cursor with nothing lost or repeated.
 */
export function pageResumeSuite(name: ExampleName): void {
  describeBrowser(`examples/${name}: the page resumes in Chromium`, () => {
    let browser: Browser
    let app: RunningExample

    beforeAll(async () => {
      ;[app, browser] = await Promise.all([
        startExample(name, { TICK_MS: '100', TOKEN_MS: '30' }),
        chromium.launch({ executablePath: CHROMIUM, args: ARGS }),
      ])
    }, 60_000)

    afterAll(async () => {
      await browser?.close()
      await app?.stop()
    }, 30_000)

    it('a reload in the middle of an answer continues it: every token once, one POST', async () => {
      const page = await browser.newPage()
      const chat = requestsTo(page, /^\/chat(\/|$)/)
      await page.goto(app.url)
      await page.fill('#chat-prompt', PROMPT)
      await page.click('#chat-form button[type=submit]')
      const partial = async (length: number) => {
        await page.waitForFunction(
          (n) => (document.getElementById('chat-answer')?.textContent ?? '').length > n,
          length,
          { timeout: 10_000 },
        )
        return (await page.textContent('#chat-answer'))!
      }
      // Two reloads, each after some more tokens: each resumes where the last left off.
      const shown: string[] = []
      for (const length of [40, 160]) {
        shown.push(await partial(length))
        await page.reload()
      }
      await page.locator('#chat-meta', { hasText: /^\d+ tokens$/ }).waitFor({ timeout: 20_000 })
      const answer = await page.textContent('#chat-answer')
      expect(answer).toBe(ANSWER)
      expect(await page.textContent('#chat-meta')).toBe(`${tokensOf(PROMPT).length} tokens`)
      for (const text of shown) {
        expect(text.length).toBeLessThan(ANSWER.length) // reloaded mid-answer
        expect(ANSWER.startsWith(text)).toBe(true)
      }
      // One POST; after each reload a GET at the answer's location with the last id read.
      const [first, ...resumes] = chat
      expect(first).toMatchObject({ method: 'POST', url: `${app.url}/chat` })
      expect(resumes.length).toBeGreaterThanOrEqual(2)
      for (const resume of resumes) {
        expect(resume.method).toBe('GET')
        expect(resume.url).toMatch(new RegExp(`^${app.url}/chat/[\\w-]{22}$`))
        expect(resume.lastEventId).toMatch(/\S/)
      }
      expect(new Set(resumes.map((r) => r.lastEventId)).size).toBe(resumes.length)
      // Finished: a further reload shows no answer to resume, and asks nothing.
      await page.reload()
      await page.waitForTimeout(300)
      expect(chat.length).toBe(resumes.length + 1)
      expect(await page.textContent('#chat-answer')).toBe('')
      await page.close()
    }, 60_000)

    it('Stop closes the stream and shows the cursor; Start resumes from it, nothing lost or repeated', async () => {
      const page = await browser.newPage()
      await page.addInitScript(record)
      const events = requestsTo(page, /^\/events$/)
      await page.goto(app.url)
      await page.waitForFunction(() => window.recorded.ticks.length >= 3, null, { timeout: 20_000 })
      await page.click('#stop')
      await page.locator('#state', { hasText: 'stopped' }).waitFor()
      const atStop: Recorded = await page.evaluate(() => window.recorded)
      const cursor = await page.textContent('#cursor-kept')
      expect(cursor).toBe(await page.textContent('#last-id'))
      expect(cursor).toBe(atStop.ids.at(-1))
      expect(await page.isDisabled('#stop')).toBe(true)
      // Missed while stopped: ticks, and a notification.
      const notified = await fetch(`${app.url}/notify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'sent while stopped' }),
      })
      expect(notified.status).toBe(202)
      await page.waitForTimeout(500)
      expect((await page.evaluate(() => window.recorded)).ids).toEqual(atStop.ids)
      await page.click('#start')
      await page.waitForFunction(
        (before) => window.recorded.ticks.length >= before + 8,
        atStop.ticks.length,
        { timeout: 20_000 },
      )
      const { ticks, notifications, ids, opens } = await page.evaluate(() => window.recorded)
      expect(opens).toHaveLength(2)
      expect(events.at(-1)!.url).toBe(
        `${app.url}/events?lastEventId=${encodeURIComponent(cursor!)}`,
      )
      const ns = ticks.map((tick) => tick.n)
      expect(ns).toEqual(consecutive(ns))
      expect(notifications.map((n) => n.text)).toEqual(['sent while stopped'])
      expect(new Set(ids).size).toBe(ids.length)
      expect(await page.isVisible('#stopped')).toBe(false)
      await page.screenshot({ path: `${outputDir}${name}-stop-start.png`, fullPage: true })
      await page.close()
    }, 60_000)
  })
}
