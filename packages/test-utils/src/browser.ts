import { existsSync } from 'node:fs'
import { describe, it } from 'vitest'

/** Debian's Chromium (`apt-get install chromium`), driven by playwright-core: never a download. */
export const CHROMIUM = '/usr/bin/chromium'

/**
 * Chromium's flags for these machines: no sandbox (tests run as root), no GPU, and no
 * background networking: without it Chromium keeps dialling out, and the closed network here
 * refuses those connections many at a time.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
]

/**
 * `describe` for tests that need Chromium: when `/usr/bin/chromium` is missing, skipped with a
 * loud warning, or failing when `SSE_REQUIRE_BROWSER=1` (as CI sets).
 *
 * @param suite - the `describe` to run the tests with when Chromium is there
 * (`describe.concurrent` for tests that each have their own server and page)
 */
export function describeBrowser(
  title: string,
  body: () => void,
  suite: (title: string, body: () => void) => void = describe,
): void {
  if (existsSync(CHROMIUM)) return void suite(title, body)
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
