import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { RunningContestant } from '../protocol.ts'

/** Listens on 127.0.0.1, port 0, with a large backlog for connection storms. */
export function listen(
  server: Server,
  publish: (data: object) => void,
  close: () => Promise<void> = async () => {},
): Promise<RunningContestant> {
  return new Promise((resolve) => {
    server.listen({ port: 0, host: '127.0.0.1', backlog: 16_384 }, () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        publish,
        close: async () => {
          await close()
          server.closeAllConnections()
          await new Promise((done) => server.close(done))
        },
      })
    })
  })
}
