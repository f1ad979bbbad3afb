// The shared suite (conformance.md, C01-C24) over real sockets, on Koa 3 over node:http2 (h2c,
// `http2.createServer(app.callback())`).
import { runConformance } from '@sse/test-utils'
import Koa from 'koa'
import { koaTarget } from './target'

runConformance(koaTarget('koa 3 over h2c', Koa, true))
