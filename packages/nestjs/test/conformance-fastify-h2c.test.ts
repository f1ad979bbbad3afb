// The shared suite (conformance.md, C01-C24) over real sockets, on a Nest application under
// @nestjs/platform-fastify over h2c (`new FastifyAdapter({ http2: true })`).
import { runConformance } from '@sse/test-utils'
import { nestTarget } from './target'

runConformance(nestTarget('fastify-h2c'))
