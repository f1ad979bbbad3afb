import { connect, createServer, type Socket } from 'node:net'

/** Where the proxy sent one client connection. */
export interface Route {
  /** The port of the instance that got the connection. */
  upstream: number
  /** The first line the client sent on it, such as `GET /events HTTP/1.1`. */
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
  /** Called once a connection is routed and its first request line has arrived. */
  onRoute?: (route: Route) => void
}

/** A running {@link startProxy}. */
export interface RunningProxy {
  readonly port: number
  readonly url: string
  /** Stops accepting and cuts every open connection. */
  close(): Promise<void>
}

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
  let next = 0

  function track(socket: Socket) {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  }

  function route(client: Socket, tried = 0) {
    if (tried === options.upstreams.length) {
      const body = '{"error":"no instance is up"}'
      client.end(
        'HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\n' +
          `content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
      )
      return
    }
    const port = options.upstreams[next++ % options.upstreams.length]!
    const upstream = connect(port, host)
    track(upstream)
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
      client.once('data', (chunk: Buffer) => {
        const request = chunk.toString('latin1', 0, Math.min(chunk.length, 200)).split('\r\n')[0]!
        options.onRoute?.({ upstream: port, request })
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
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            for (const socket of sockets) socket.destroy()
          }),
      })
    })
  })
}
