// The shared suite (conformance.md, C01-C24) over real sockets, on the web path: `app.fetch`
// served on Node through the suite's node:http bridge, so `sse()` finds no Node response and
// answers with a ReadableStream body, as on Bun, Deno and Workers.
import { runConformance } from '@sse/test-utils'
import { honoTarget } from './target'

runConformance(honoTarget('hono app.fetch (web path)', 'fetch'), {
  skip: [
    "C18 a stream with no heartbeat outlives the server's socket timeout -- a fetch handler cannot reach the bridge's Node socket (on Bun, sse() lifts the idle timeout: runtimes.test.ts)",
  ],
})
