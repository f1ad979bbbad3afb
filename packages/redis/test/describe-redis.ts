import { describe, it } from 'vitest'
import { redisAvailable } from './redis-server'

/** Set by CI (`.ci/run`): a missing or broken redis-server fails the tests instead of skipping them. */
export const REDIS_REQUIRED = process.env.SSE_REQUIRE_REDIS === '1'

const INSTALL_HINT =
  'redis-server is not on PATH, so the @sse/redis tests are SKIPPED. Install it with ' +
  '`sudo apt-get install -y redis-server` (Debian/Ubuntu; no service needs to run: the tests ' +
  'start their own server on a free port). Set SSE_REQUIRE_REDIS=1 to make this an error.'

/**
 * `describe` for tests that need a real redis-server: skipped loudly when none is installed, and
 * failing instead when SSE_REQUIRE_REDIS=1.
 */
export function describeRedis(name: string, body: () => void): void {
  if (redisAvailable) {
    describe(name, body)
  } else if (REDIS_REQUIRED) {
    describe(name, () => {
      it('needs redis-server (SSE_REQUIRE_REDIS=1)', () => {
        throw new Error(INSTALL_HINT.replace('are SKIPPED', 'cannot run'))
      })
    })
  } else {
    console.warn(`\n${'!'.repeat(100)}\n[@sse/redis] ${INSTALL_HINT}\n${'!'.repeat(100)}\n`)
    describe.skip(name, body)
  }
}
