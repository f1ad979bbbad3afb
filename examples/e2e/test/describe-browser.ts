import { existsSync } from 'node:fs'
import { describe, it } from 'vitest'
import { CHROMIUM } from './browser.ts'

/**
 * `describe` for tests that need Chromium: skipped with a message when `/usr/bin/chromium` is
 * missing, failing instead when `SSE_REQUIRE_BROWSER=1`.
 */
export function describeBrowser(title: string, body: () => void): void {
  if (existsSync(CHROMIUM)) return void describe(title, body)
  const message = `no Chromium at ${CHROMIUM}: install it with \`apt-get install chromium\``
  if (process.env.SSE_REQUIRE_BROWSER === '1') {
    describe(title, () => {
      it('needs Chromium (SSE_REQUIRE_BROWSER=1)', () => {
        throw new Error(`Browser tests required but ${message}`)
      })
    })
  } else {
    console.warn(`\n*** ${title}: SKIPPED, ${message} ***\n`)
    describe.skip(`${title} (skipped: ${message})`, () => {
      it('runs in Chromium', () => {})
    })
  }
}
