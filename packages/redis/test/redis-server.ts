import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A redis-server child process on 127.0.0.1, in its own temporary directory. */
export interface RedisServer {
  readonly port: number
  /** Its working directory (data files, a cluster node's nodes.conf). */
  readonly dir: string
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  /** Starts it again on the same port and directory (after {@link RedisServer.kill}). */
  start(): Promise<void>
  /** SIGKILL: a crash, no shutdown work. With `persistent`, fsynced writes survive. */
  kill(): Promise<void>
  /** Stops it and removes its directory. */
  stop(): Promise<void>
}

/** True when `redis-server` is on PATH. */
export const redisAvailable =
  spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0

const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let reply = ''
    socket.setTimeout(1000)
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk
      if (reply.includes('\r\n')) {
        socket.destroy()
        resolve(reply.startsWith('+PONG'))
      }
    })
    socket.on('error', () => resolve(false))
    socket.on('timeout', () => {
      socket.destroy()
      resolve(false)
    })
  })
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/**
 * Starts `redis-server` on a free port. Without `persistent` nothing is ever written to disk;
 * with it, every write is fsynced to an append-only file first (`appendfsync always`), so a
 * crash loses nothing Redis acknowledged.
 */
export async function startRedis(
  options: { persistent?: boolean; args?: readonly string[] } = {},
): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sse-redis-'))
  const persistence = options.persistent
    ? ['--appendonly', 'yes', '--appendfsync', 'always']
    : ['--appendonly', 'no']
  let port = 0
  let child: ChildProcess | undefined
  let log = ''

  async function launch(): Promise<boolean> {
    log = ''
    const proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''].concat(
        persistence,
        ['--daemonize', 'no', '--loglevel', 'warning'],
        options.args ?? [],
      ),
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    child = proc
    running.add(proc)
    proc.once('exit', () => running.delete(proc))
    proc.stdout!.on('data', (chunk) => {
      log += chunk
    })
    proc.stderr!.on('data', (chunk) => {
      log += chunk
    })
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) return false
      if (await ping(port)) return true
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    proc.kill('SIGKILL')
    return false
  }

  for (let attempt = 0; ; attempt++) {
    port = await freePort()
    if (await launch()) break
    // Another process may have taken the port between freePort() and the server's bind.
    if (attempt === 2) throw new Error(`redis-server did not start:\n${log}`)
  }

  const server: RedisServer = {
    port,
    dir,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      if (!(await launch())) throw new Error(`redis-server did not restart:\n${log}`)
    },
    async kill() {
      if (!child) return
      child.kill('SIGKILL')
      await exited(child)
    },
    async stop() {
      if (child) {
        child.kill('SIGTERM')
        await exited(child)
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
  return server
}
