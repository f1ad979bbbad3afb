// The shared suite (conformance.md, C01-C24) over real sockets, on a Nest application under
// @nestjs/platform-express. Express has no HTTP/2 of its own, so this target is HTTP/1.1.
import { runConformance } from '@sse/test-utils'
import { nestTarget } from './target'

runConformance(nestTarget('express'))
