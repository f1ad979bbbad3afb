// The shared suite (conformance.md, C01-C24) over real sockets, for both Koa majors and HTTP/2.
// TODO: enable once packages/test-utils/src/index.ts exports runConformance.
// import { runConformance } from '@sse/test-utils'
import Koa3 from 'koa'
import Koa2 from 'koa2'
import { describe, expect, it } from 'vitest'
import type { KoaClass } from './helpers'
import { koaTarget } from './target'

const targets = [
  koaTarget('koa 3', Koa3),
  koaTarget('koa 2', Koa2 as unknown as KoaClass),
  koaTarget('koa 3 over h2c', Koa3, true),
]

// for (const target of targets) runConformance(target)

describe.each(targets)('$name target', (target) => {
  it('starts, serves /events with X-Preset, and closes', async () => {
    const server = await target.start({})
    try {
      expect(server.http2).toBe(target.name.endsWith('h2c'))
      if (!server.http2) {
        const res = await fetch(`${server.url}/events`)
        expect(res.status).toBe(200)
        expect(res.headers.get('x-preset')).toBe('kept')
        await res.body?.cancel()
      }
    } finally {
      await server.close()
    }
  })
})
