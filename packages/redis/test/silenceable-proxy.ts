import { connect, createServer, type Socket } from 'node:net'

/**
 * A TCP proxy to 127.0.0.1:`port` whose existing connections can be made to go silent, then be
 * dropped or resumed.
 */
export async function silenceableProxy(port: number) {
  const pairs = new Set<[Socket, Socket]>()
  const silenced: [Socket, Socket][] = []
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
    silence() {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream)
        upstream.unpipe(client)
        client.pause()
        upstream.pause()
        silenced.push([client, upstream])
      }
      pairs.clear()
    },
    /** Lets the silenced connections talk again, as a network that recovers in time. */
    resume() {
      for (const [client, upstream] of silenced.splice(0)) {
        pairs.add([client, upstream])
        client.pipe(upstream)
        upstream.pipe(client)
        client.resume()
        upstream.resume()
      }
    },
    /** Closes the silenced connections, as a network that comes back with its sockets reset. */
    drop() {
      for (const pair of silenced.splice(0)) for (const socket of pair) socket.destroy()
    },
    close() {
      server.close()
    },
  }
}
