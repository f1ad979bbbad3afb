/**
 * The benchmark's own redis-server on a free loopback port (no persistence), and its CPU time
 * read with `INFO cpu` over a raw socket (the bench has no Redis client of its own).
 */
import { spawn, spawnSync } from 'node:child_process'
import { connect, createServer } from 'node:net'
import { track } from './children.ts'

export interface Redis {
  port: number
  url: string
  /** used_cpu_user + used_cpu_sys, in seconds. */
  cpuSeconds(): Promise<number>
  stop(): Promise<void>
}

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

/** Sends one inline command and returns the reply once `complete` says it is whole. */
function command(port: number, line: string, complete: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let text = ''
    socket.setTimeout(2000, () => socket.destroy(new Error(`redis: no answer to ${line}`)))
    socket.on('connect', () => socket.write(`${line}\r\n`))
    socket.on('data', (chunk) => {
      text += chunk
      if (complete(text)) {
        socket.destroy()
        resolve(text)
      }
    })
    socket.on('error', reject)
  })
}

// setpriv --pdeathsig: the kernel kills redis-server if the orchestrator dies without running
// its exit handlers (SIGKILL, OOM), which a plain child would outlive.
const pdeathsig =
  spawnSync('setpriv', ['--pdeathsig', 'KILL', 'true'], { stdio: 'ignore' }).status === 0

export async function startRedis(): Promise<Redis> {
  const port = await freePort()
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
  const child = track(
    pdeathsig
      ? spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'redis-server', ...args], {
          stdio: 'ignore',
        })
      : spawn('redis-server', args, { stdio: 'ignore' }),
  )
  const deadline = Date.now() + 10_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode})`)
    const pong = await command(port, 'PING', (t) => t.includes('\r\n')).catch(() => '')
    if (pong.startsWith('+PONG')) break
    if (Date.now() > deadline) throw new Error('redis-server did not answer PING within 10 s')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async cpuSeconds() {
      // A bulk string, "$<length>\r\n<length bytes>\r\n": whole once that many bytes are in.
      const info = await command(port, 'INFO cpu', (t) => {
        const head = /^\$(\d+)\r\n/.exec(t)
        return head !== null && t.length >= head[0].length + Number(head[1]) + 2
      })
      const field = (name: string) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1])
      return field('used_cpu_user') + field('used_cpu_sys')
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGKILL')
      await exited
    },
  }
}
