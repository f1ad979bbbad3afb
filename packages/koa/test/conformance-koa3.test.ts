// The shared suite (conformance.md, C01-C24) over real sockets, on Koa 3 over HTTP/1.1.
import { runConformance } from '@sse/test-utils'
import Koa from 'koa'

import { koaTarget } from './target'

runConformance(koaTarget('koa 3', Koa))
