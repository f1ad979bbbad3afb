import {
  type ConformanceTarget,
  coreNodeHandler,
  coreNodeTarget,
  coreWebTarget,
  type RequestInfo,
} from '@sse/test-utils'
import { majors as expressMajors } from '../../../packages/express/test/helpers'
import { expressTarget } from '../../../packages/express/test/target'
import { fastifyTarget } from '../../../packages/fastify/test/target'
import { honoTarget } from '../../../packages/hono/test/target'
import { majors as koaMajors } from '../../../packages/koa/test/helpers'
import { koaTarget } from '../../../packages/koa/test/target'
import { nestTarget } from '../../../packages/nestjs/test/target'

/**
 * What the suite's servers see of a request: the conformance suite's `RequestInfo` plus the
 * client's address where the target can give it (core over node:http; the adapters' targets
 * give url and headers only, so per-client limits there key on a header a proxy would set).
 */
export type Info = RequestInfo

/** Core over node:http: `openNodeStream` in a plain request listener, as an application would. */
export const coreNode: ConformanceTarget = coreNodeTarget({ name: 'core node:http' })

/** The request listener behind {@link coreNode}; also used by the Redis shutdown test. */
export const nodeHandler = coreNodeHandler

/** Core's web connection (`openWebStream`), served on node:http by the test-utils bridge. */
export const coreWeb: ConformanceTarget = coreWebTarget('core web (Request/Response)')

/**
 * Every way of serving streams the suite covers ("per adapter"): core's two connections and each
 * adapter through its own conformance target (packages/<adapter>/test/target.ts), so the servers
 * here are built exactly like the ones the conformance suite checks.
 */
export const adapters: ConformanceTarget[] = [
  coreNode,
  coreWeb,
  expressTarget(...expressMajors[0]!),
  fastifyTarget(),
  koaTarget(...koaMajors[0]!),
  honoTarget('hono (node-server)', 'node-server'),
  nestTarget('express'),
]
