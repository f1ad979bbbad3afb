// The shared suite (conformance.md, C01-C24) over real sockets, on Fastify 5 over HTTP/1.1.
import { runConformance } from '@sse/test-utils'
import { fastifyTarget } from './target'

runConformance(fastifyTarget())
