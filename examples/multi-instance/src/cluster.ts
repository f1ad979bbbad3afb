/**
 * A local cluster in one command: redis-server (unless REDIS_URL is set), two instances of
 * src/server.ts on PORT and PORT+1, and a round-robin proxy on PROXY_PORT in front of them.
 * Enter starts the instances that are down again; Ctrl+C stops everything.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { type RunningProxy, startProxy } from './proxy.ts'

const host = process.env.HOST ?? '127.0.0.1'
const port = Number(process.env.PORT ?? 3000)
const proxyPort = Number(process.env.PROXY_PORT ?? 8080)
const packageDir = fileURLToPath(new URL('..', import.meta.url))

interface Instance {
  name: string
  port: number
  child?: ChildProcess
}
const instances: Instance[] = [
  { name: 'a', port },
  { name: 'b', port: port + 1 },
]
const children = new Set<ChildProcess>()
let redisDir: string | undefined
let proxy: RunningProxy | undefined
let stopping = false

/** Prints a child's output line by line, each line tagged with its name. */
function tagOutput(child: ChildProcess, tag: string): void {
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => console.log(`[${tag}] ${line}`))
  }
}

function track(child: ChildProcess): ChildProcess {
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** Resolves once `child` printed a line matching `ready`; rejects if it exits first. */
function started(child: ChildProcess, what: string, ready: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    lines.on('line', (line) => {
      if (ready.test(line)) resolve()
    })
    child.once('exit', (code, signal) => reject(new Error(`${what} exited (${signal ?? code})`)))
  })
}

/** The Redis to use: REDIS_URL, or a redis-server of our own with nothing kept on disk. */
async function redis(): Promise<{ url: string; pid?: number }> {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL }
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(
      'redis-server is not on PATH. Install it (`apt-get install redis-server`, ' +
        '`brew install redis`) or point REDIS_URL at a running Redis.',
    )
  }
  const redisPort = Number(process.env.REDIS_PORT) || (await freePort())
  redisDir = mkdtempSync(join(tmpdir(), 'sse-demo-redis-'))
  const child = track(
    spawn(
      'redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', redisDir, '--save', ''],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  )
  let log = ''
  child.stderr!.on('data', (chunk) => {
    log += chunk
  })
  child.stdout!.on('data', (chunk) => {
    log += chunk
  })
  // Its log only matters when it does not start (a port in use, for example).
  await started(child, 'redis-server', /Ready to accept connections/).catch((error) => {
    throw new Error(`${error.message}:\n${log}`)
  })
  return { url: `redis://127.0.0.1:${redisPort}`, pid: child.pid }
}

async function startInstance(instance: Instance, redisUrl: string): Promise<void> {
  const child = track(
    spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: packageDir,
      env: {
        ...process.env,
        PORT: String(instance.port),
        INSTANCE: instance.name,
        REDIS_URL: redisUrl,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  )
  instance.child = child
  tagOutput(child, instance.name)
  child.once('exit', (code, signal) => {
    if (stopping) return
    console.log(
      `[${instance.name}] exited (${signal ?? code}): the proxy now sends every new connection ` +
        'to the other instance. Press Enter to start it again.',
    )
  })
  await started(child, `instance ${instance.name}`, /listening on/)
}

function isUp(instance: Instance): boolean {
  return instance.child?.exitCode === null && instance.child.signalCode === null
}

async function stop(code: number): Promise<never> {
  stopping = true
  await proxy?.close()
  const timer = setTimeout(() => {
    for (const child of children) child.kill('SIGKILL')
  }, 5000)
  // Instances first, so that they can still release the tick lease in Redis; then Redis.
  const up = instances.filter(isUp).map((instance) => instance.child!)
  for (const child of up) child.kill('SIGTERM')
  await Promise.all(up.map(exitOf))
  for (const child of children) child.kill('SIGTERM')
  await Promise.all([...children].map(exitOf))
  clearTimeout(timer)
  if (redisDir) rmSync(redisDir, { recursive: true, force: true })
  process.exit(code)
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

process.once('SIGINT', () => void stop(0))
process.once('SIGTERM', () => void stop(0))

try {
  const { url: redisUrl, pid: redisPid } = await redis()
  await Promise.all(instances.map((instance) => startInstance(instance, redisUrl)))
  const names = new Map(instances.map((instance) => [instance.port, instance]))
  proxy = await startProxy({
    upstreams: instances.map((instance) => instance.port),
    port: proxyPort,
    host,
    onRoute({ upstream, request }) {
      // The page's event stream: the connection whose instance to kill to watch it move.
      if (!request.startsWith('GET /events')) return
      const instance = names.get(upstream)!
      console.log(
        `[proxy] ${request.replace(/ HTTP\/.*$/, '')} -> ${instance.name} (pid ${instance.child?.pid})`,
      )
    },
  })
  const pad = (text: string) => text.padEnd(30)
  console.log(`
Two instances on one Redis, behind a round-robin proxy:

  ${pad(proxy.url)} the proxy: open the page here
${instances.map((i) => `  ${pad(`http://${host}:${i.port}`)} instance ${i.name}, pid ${i.child!.pid}`).join('\n')}
  ${pad(redisUrl.replace(/\/\/[^/@]*@/, '//'))} Redis${redisPid ? `, pid ${redisPid} (nothing kept on disk)` : ''}

Open the page: the proxy logs which instance its stream is on ("[proxy] GET /events -> a").
Kill that one as a crash would, for instance:

  kill -9 ${instances[0]!.child!.pid}

The page reconnects through the proxy to the other instance and resumes with the events it
missed; the ticks go on once the lease moves over. Send a notification meanwhile: it shows once.
Enter starts the killed instance again; Ctrl+C stops everything.
`)
  createInterface({ input: process.stdin, terminal: false }).on('line', () => {
    for (const instance of instances) {
      if (isUp(instance) || stopping) continue
      startInstance(instance, redisUrl).catch((error) => console.error(String(error)))
    }
  })
} catch (error) {
  console.error(`Could not start the cluster: ${(error as Error).message}`)
  await stop(1)
}
