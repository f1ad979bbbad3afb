import { streamInternals as internals, type SseStream } from './stream'
import type { StreamGroup } from './stream-types'
import type { EventMap, SseMessage } from './types'

/** How streams are ended for a shutdown: by `closeStreams`, `Hub.shutdown` and the adapters. */
export interface ShutdownOptions<M extends EventMap = EventMap> {
  /**
   * How long open streams get to flush before their connections are dropped, in milliseconds.
   * @default 5000
   */
  grace?: number
  /** An event sent to every stream before it ends (for example `{ event: 'bye' }`). */
  farewell?: SseMessage<M>
}

/** Options of {@link closeStreams}. */
export interface CloseStreamsOptions extends ShutdownOptions {
  /**
   * Ends only the streams this server accepted (an `http.Server`, `http2` server, or a
   * framework's `app.server`), and sends away only its new ones. Without it, every stream of the
   * process is ended and every new one is sent away.
   */
  server?: object
}

/** The open streams one server accepted; it leaves the registry once empty. */
class ServerStreams extends Set<SseStream> implements StreamGroup {
  readonly #server: object | undefined
  constructor(server: object | undefined) {
    super()
    this.#server = server
  }
  leave(stream: SseStream): void {
    if (this.delete(stream) && this.size === 0 && open.get(this.#server) === this) {
      open.delete(this.#server)
    }
  }
}

// Every open stream, by the server that accepted it (undefined: none known, e.g. web runtimes).
const open = new Map<object | undefined, ServerStreams>()
const closingServers = new WeakSet<object>()
let closingAll = false

/** Tracks a stream until it ends, so that {@link closeStreams} finds it. */
export function track(stream: SseStream, server: object | undefined): void {
  let streams = open.get(server)
  if (!streams) {
    streams = new ServerStreams(server)
    open.set(server, streams)
  }
  internals.join(stream, streams)
}

/** True when new streams on `server` must be sent away to come back later. */
export function isClosing(server: object | undefined): boolean {
  return closingAll || (server !== undefined && closingServers.has(server))
}

/**
 * Ends streams for a shutdown: sends the optional farewell, ends each stream (its client comes
 * back after its `retry`), and drops the connections that have not flushed within `grace`, so
 * that `server.close()` completes (C18). Used by `closeStreams` and `Hub.shutdown`.
 */
export async function endStreams(
  streams: Iterable<SseStream>,
  options: ShutdownOptions = {},
): Promise<void> {
  const ending = [...streams]
  for (const stream of ending) {
    if (options.farewell) stream.send(options.farewell)
    internals.end(stream, 'shutdown')
  }
  let timer: ReturnType<typeof setTimeout> | undefined
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, options.grace ?? 5000)
  })
  await Promise.race([Promise.all(ending.map((stream) => internals.released(stream))), grace])
  clearTimeout(timer)
  for (const stream of ending) internals.destroy(stream)
}

/**
 * The one way to end open streams before a server closes, with or without a hub, whatever the
 * method or framework: sends the farewell, ends every stream of `server` (or of the process),
 * drops connections still unflushed after `grace`, and from now on answers new streams there
 * with `200`, a `retry:` and `Retry-After`, so clients come back once the server is back. The
 * adapters call it on their framework's close hook (Fastify, NestJS); with node:http, Express,
 * Koa or Hono, call it before `server.close()`.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http'
 * import { closeStreams } from '@sse/core'
 * import { openNodeStream } from '@sse/core/node'
 *
 * const server = createServer((req, res) => openNodeStream(req, res)).listen(3000)
 * process.once('SIGTERM', async () => {
 *   await closeStreams({ server, grace: 5000 })
 *   server.close()
 * })
 * ```
 */
export async function closeStreams(options: CloseStreamsOptions = {}): Promise<void> {
  const { server, ...shutdown } = options
  if (server === undefined) closingAll = true
  else closingServers.add(server)
  const streams: SseStream[] = []
  for (const [owner, set] of open) {
    if (server === undefined || owner === server) streams.push(...set)
  }
  await endStreams(streams, shutdown)
}
