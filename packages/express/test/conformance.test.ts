// The shared suite (conformance.md, C01-C24) over real sockets, for both Express majors and both
// ways of mounting the adapter. Express has no HTTP/2 of its own, so every target is HTTP/1.1.
import { runConformance } from '@sse/test-utils'
import express5 from 'express'
import express4 from 'express4'
import { expressTarget } from './target'

runConformance(expressTarget('express 5', express5))
runConformance(expressTarget('express 4, sse(options, handler)', express4, 'handler'))
