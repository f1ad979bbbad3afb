import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2'
import { openNodeStream } from '@sse/core/node'
import { openWebStream } from '@sse/core/web'
import type { DurableScenario } from './target'

/** The route of a durable request: a start (no id) or the stream `id`; undefined when not one. */
export function durableRoute(path: string): { id?: string } | undefined {
  const match = /^\/durable(?:\/([^/?]+))?(?:\?|$)/.exec(path)
  return match ? { id: match[1] } : undefined
}

function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/** Serves the durable routes (StreamScenario.durable) with core's Node connection. */
export async function serveDurableNode(
  req: IncomingMessage | Http2ServerRequest,
  res: ServerResponse | Http2ServerResponse,
  durable: DurableScenario,
  id: string | undefined,
): Promise<void> {
  const owner = one(req.headers['x-user'])
  const { streams, produce } = durable
  if (id === undefined && req.method === 'POST') {
    const idempotencyKey = one(req.headers['idempotency-key'])
    const run = await streams.start({ owner, idempotencyKey, produce })
    await openNodeStream(req, res, { durable: run })
  } else if (id !== undefined && req.method === 'DELETE') {
    const cancelled = await streams.cancel(id, { owner })
    ;(res as ServerResponse).writeHead(cancelled ? 204 : 404).end()
  } else if (id !== undefined && req.method === 'GET') {
    await openNodeStream(req, res, { durable: streams.get(id, { owner }) })
  } else (res as ServerResponse).writeHead(405).end()
}

/** Serves the durable routes (StreamScenario.durable) with core's web connection. */
export async function serveDurableWeb(
  request: Request,
  durable: DurableScenario,
  id: string | undefined,
): Promise<Response> {
  const owner = request.headers.get('x-user') ?? undefined
  const { streams, produce } = durable
  if (id === undefined && request.method === 'POST') {
    const idempotencyKey = request.headers.get('idempotency-key') ?? undefined
    const run = await streams.start({ owner, idempotencyKey, produce })
    return (await openWebStream(request, { durable: run })).response
  }
  if (id !== undefined && request.method === 'DELETE') {
    const cancelled = await streams.cancel(id, { owner })
    return new Response(null, { status: cancelled ? 204 : 404 })
  }
  if (id !== undefined && request.method === 'GET') {
    return (await openWebStream(request, { durable: streams.get(id, { owner }) })).response
  }
  return new Response(null, { status: 405 })
}
