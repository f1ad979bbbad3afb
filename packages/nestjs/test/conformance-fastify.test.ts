// The shared suite (conformance.md, C01-C24) over real sockets, on a Nest application under
// @nestjs/platform-fastify over HTTP/1.1 (h2c is in conformance-fastify-h2c.test.ts).
import { runConformance } from '@sse/test-utils'
import { nestTarget } from './target'

runConformance(nestTarget('fastify'))
