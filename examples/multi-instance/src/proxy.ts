import { connect, createServer, type Socket } from 'node:net'

/** A request the proxy passed on, and to which instance. */
export interface Route {
  /** The port of the instance the request went to. */
  upstream: number
  /** Its request line, such as `GET /events HTTP/1.1`. */
  request: string
}

/** Options of {@link startProxy}. */
export interface ProxyOptions {
  /** The instances' ports, on `host`. */
  upstreams: readonly number[]
  /** @default 0 (a free port) */
  port?: number
  /** @default '127.0.0.1' */
  host?: string
  /**
   * Called for each request the proxy sees go by. It does not parse HTTP: a request is a chunk
   * from the client that starts with a request line, which is good enough for a log.
   */
  onRoute?: (route: Route) => void
}

/** A running {@link startProxy}. */
export interface RunningProxy {
  readonly port: number
  readonly url: string
  /** Sends new connections only to these instances (tests steer with it); all by default. */
  use(upstreams?: readonly number[]): void
  /** Cuts the open connections to one instance, which keeps running (a failover of its clients). */
  cut(upstream: number): void
  /** Stops accepting and cuts every open connection. */
  close(): Promise<void>
}

const REQUEST_LINE = /^[A-Z]+ \S+ HTTP\/1\.[01]$/

/**
 * A tiny round-robin TCP load balancer, enough to put several instances behind one URL on a
 * laptop: each new connection goes to the next instance, skipping those that refuse it; when
 * none is up the client gets a 502. An instance that dies takes its open connections with it,
 * as behind a real load balancer: each EventSource on them reconnects, through the proxy, to an
 * instance that is up. No health checks and no stickiness; nothing here is SSE-specific.
 */
export function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const host = options.host ?? '127.0.0.1'
  const sockets = new Set<Socket>()
  const upstreamOf = new Map<Socket, number>()
  let upstreams = options.upstreams
  let next = 0

  function track(socket: Socket) {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  }

  function route(client: Socket, tried = 0) {
    if (tried >= upstreams.length) {
      const body = '{"error":"no instance is up"}'
      client.end(
        'HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\n' +
          `content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
      )
      return
    }
    const port = upstreams[next++ % upstreams.length]!
    const upstream = connect(port, host)
    track(upstream)
    upstreamOf.set(upstream, port)
    upstream.once('close', () => upstreamOf.delete(upstream))
    upstream.once('error', () => route(client, tried + 1))
    upstream.once('connect', () => {
      upstream.removeAllListeners('error')
      if (client.destroyed) {
        upstream.destroy()
        return
      }
      // Either side failing or closing ends the other: a killed instance drops its clients.
      upstream.on('error', () => client.destroy())
      client.on('error', () => upstream.destroy())
      upstream.once('close', () => client.end())
      client.once('close', () => upstream.destroy())
      client.on('data', (chunk: Buffer) => {
        const line = chunk.toString('latin1', 0, Math.min(chunk.length, 300)).split('\r\n')[0]!
        if (REQUEST_LINE.test(line)) options.onRoute?.({ upstream: port, request: line })
      })
      client.pipe(upstream)
      upstream.pipe(client)
      client.resume()
    })
  }

  const server = createServer({ pauseOnConnect: true }, (client) => {
    track(client)
    client.on('error', () => {}) // a reset before routing; 'close' follows
    route(client)
  })

  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      const { port } = server.address() as { port: number }
      resolve({
        port,
        url: `http://${host}:${port}`,
        use(ports) {
          upstreams = ports ?? options.upstreams
        },
        cut(upstream) {
          for (const [socket, to] of upstreamOf) if (to === upstream) socket.destroy()
        },
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            for (const socket of sockets) socket.destroy()
          }),
      })
    })
  })
}
