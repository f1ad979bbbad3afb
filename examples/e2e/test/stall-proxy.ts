import { connect, createServer, type Socket } from 'node:net'

/**
 * A TCP proxy to 127.0.0.1:`port` (after packages/redis/test/silenceable-proxy.ts) that can hold
 * back what the server sends while still passing on what the client sends: a network stall
 * that hits a reply after Redis ran the command, the case a lease alone cannot fence.
 */
export async function stallProxy(port: number) {
  const pairs = new Set<[client: Socket, upstream: Socket]>()
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1')
    const pair: [Socket, Socket] = [client, upstream]
    pairs.add(pair)
    client.pipe(upstream)
    upstream.pipe(client)
    const end = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    for (const socket of pair) socket.on('error', end).on('close', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    /** Replies stop on every open connection; commands still reach the server. */
    holdReplies() {
      for (const [client, upstream] of pairs) {
        upstream.unpipe(client)
        upstream.pause()
      }
    },
    /** The held replies arrive, late, and the connections go on. */
    release() {
      for (const [client, upstream] of pairs) {
        upstream.pipe(client)
        upstream.resume()
      }
    },
    close() {
      for (const pair of pairs) for (const socket of pair) socket.destroy()
      server.close()
    },
  }
}
