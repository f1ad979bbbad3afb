import { describe, it } from 'vitest'
import { redisAvailable } from '../../../packages/redis/test/redis-server.ts'

export { type RedisServer, startRedis } from '../../../packages/redis/test/redis-server.ts'

const HINT =
  'redis-server is not on PATH, so the examples/multi-instance tests are SKIPPED. Install it ' +
  'with `apt-get install -y redis-server` (no service needs to run: the tests start their own ' +
  'server on a free port). With SSE_REQUIRE_REDIS=1 (CI) this is an error instead.'

/**
 * `describe` for the tests that need a real redis-server: skipped with a loud message when none
 * is installed, failing instead when `SSE_REQUIRE_REDIS=1`.
 */
export function describeRedis(name: string, body: () => void): void {
  if (redisAvailable) {
    describe(name, body)
  } else if (process.env.SSE_REQUIRE_REDIS === '1') {
    describe(name, () => {
      it('needs redis-server (SSE_REQUIRE_REDIS=1)', () => {
        throw new Error(HINT.replace('are SKIPPED', 'cannot run'))
      })
    })
  } else {
    console.warn(`\n${'!'.repeat(100)}\n[${name}] ${HINT}\n${'!'.repeat(100)}\n`)
    describe.skip(name, body)
  }
}
