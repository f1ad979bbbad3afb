// The shared suite (conformance.md, C01-C24) over real sockets, on Koa 2 over HTTP/1.1.
import { runConformance } from '@sse/test-utils'
import Koa from 'koa2'
import { koaTarget } from './target'

runConformance(koaTarget('koa 2', Koa))
