import { connect, createServer, type Socket } from 'node:net'

/**
 * A TCP proxy to 127.0.0.1:`port`, to fail the network between a client and a server (Redis)
 * without touching either. Its open connections can go silent both ways, then resume (a network
 * that recovers in time) or be dropped (one that comes back with its sockets reset); or hold back
 * only the server's replies while commands still reach it (a stall that hits a reply after the
 * server ran the command), then release them.
 */
export async function tcpProxy(port: number) {
  const pairs = new Set<[client: Socket, upstream: Socket]>()
  const silenced: [client: Socket, upstream: Socket][] = []
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
    /** Nothing passes either way on the open connections; new ones still work. */
    silence() {
      for (const pair of pairs) {
        const [client, upstream] = pair
        client.unpipe(upstream)
        upstream.unpipe(client)
        client.pause()
        upstream.pause()
        silenced.push(pair)
      }
      pairs.clear()
    },
    /** The silenced connections talk again. */
    resume() {
      for (const pair of silenced.splice(0)) {
        const [client, upstream] = pair
        pairs.add(pair)
        client.pipe(upstream)
        upstream.pipe(client)
        client.resume()
        upstream.resume()
      }
    },
    /** The silenced connections are reset. */
    drop() {
      for (const pair of silenced.splice(0)) for (const socket of pair) socket.destroy()
    },
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
      for (const pair of [...pairs, ...silenced.splice(0)])
        for (const socket of pair) socket.destroy()
      server.close()
    },
  }
}
