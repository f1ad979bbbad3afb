// The shared suite (conformance.md, C01-C24) over real sockets, on @hono/node-server over h2c
// (`createServer: http2.createServer`): the fast path on the node:http2 compatibility API.
import { runConformance } from '@sse/test-utils'
import { honoTarget } from './target'

runConformance(honoTarget('hono on @hono/node-server over h2c (fast path)', 'node-server-h2'))
