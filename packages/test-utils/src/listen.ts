import type { Server } from 'node:http'
import type { Http2Server, ServerHttp2Session } from 'node:http2'
import type { ServerUnderTest } from './target'

/** Options of {@link listen}. */
export interface ListenOptions {
  /**
   * True for a node:http2 server (h2c).
   * @default false
   */
  http2?: boolean
}

/**
 * Listens on 127.0.0.1, port 0, and describes the server for the conformance suite. Its
 * `close()` drops whatever connections are left (a test may have paused a client) so a test
 * never hangs in teardown, and tolerates a server that a test already closed.
 */
export async function listen(
  server: Server | Http2Server,
  options: ListenOptions = {},
): Promise<ServerUnderTest> {
  const http2 = options.http2 ?? false
  const sessions = new Set<ServerHttp2Session>()
  if (http2) {
    ;(server as Http2Server).on('session', (session: ServerHttp2Session) => {
      sessions.add(session)
      session.once('close', () => sessions.delete(session))
    })
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('Not listening on TCP')
  return {
    url: `http://127.0.0.1:${address.port}`,
    http2,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        if (http2) for (const session of sessions) session.destroy()
        else (server as Server).closeAllConnections()
      }),
  }
}
