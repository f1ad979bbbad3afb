// The shared suite (conformance.md, C01-C24) over real sockets, on @hono/node-server over
// HTTP/1.1: the fast path, writing straight to the Node response.
import { runConformance } from '@sse/test-utils'
import { honoTarget } from './target'

runConformance(honoTarget('hono on @hono/node-server (fast path)', 'node-server'))
