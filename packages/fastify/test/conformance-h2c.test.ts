// The shared suite (conformance.md, C01-C24) on Fastify 5 with `http2: true` (h2c): hijack and
// the node:http2 compatibility response.
import { runConformance } from '@sse/test-utils'
import { fastifyTarget } from './target'

runConformance(fastifyTarget(true))
