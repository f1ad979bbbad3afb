import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { availableParallelism, platform, tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'vitest'

/** The absolute path of a program on PATH or in the sbin folders (Debian puts nginx there). */
function findProgram(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin']
  return dirs
    .filter((dir) => dir.startsWith('/'))
    .map((dir) => join(dir, name))
    .find((path) => existsSync(path))
}

const outputDir = fileURLToPath(new URL('../test-output/', import.meta.url))

export const NGINX = findProgram('nginx')
export const HAPROXY = findProgram('haproxy')

const HINT =
  'nginx and haproxy are needed for the proxy tests, which are SKIPPED. Install them with ' +
  '`apt-get install -y nginx haproxy` (no service needs to run: the tests start their own, ' +
  'on free ports, with configs in a temp dir). With SSE_REQUIRE_PROXIES=1 (CI) this is an error.'

/**
 * `describe` for tests behind real proxies: skipped with a loud message when nginx or haproxy is
 * missing, failing instead when `SSE_REQUIRE_PROXIES=1`.
 */
export function describeProxies(name: string, body: () => void): void {
  if (NGINX && HAPROXY) {
    describe(name, body)
  } else if (process.env.SSE_REQUIRE_PROXIES === '1') {
    describe(name, () => {
      it('needs nginx and haproxy (SSE_REQUIRE_PROXIES=1)', () => {
        throw new Error(HINT.replace('are SKIPPED', 'cannot run'))
      })
    })
  } else {
    console.warn(`\n${'!'.repeat(100)}\n[${name}] ${HINT}\n${'!'.repeat(100)}\n`)
    describe.skip(name, body)
  }
}

/** A free port on 127.0.0.1: bound once on port 0, then released for the proxy to take. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** One proxy process in front of an example. */
export interface RunningProxy {
  readonly url: string
  /** The config it was started with, for failure messages and the docs. */
  readonly config: string
  /** What it printed, and its error log. */
  output(): string
  stop(): Promise<void>
}

const running = new Set<ChildProcess>()
// Whatever happens to the test run, never leave a proxy behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

async function startProxy(
  what: string,
  args: (dir: string, config: string) => string[],
  program: string,
  configOf: (dir: string, port: number) => string,
): Promise<RunningProxy> {
  const dir = mkdtempSync(join(tmpdir(), `sse-${what}-`))
  const port = await freePort()
  const config = configOf(dir, port)
  const file = join(dir, `${what}.conf`)
  writeFileSync(file, config)
  const child = spawn(program, args(dir, file), { stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  let printed = ''
  child.stdout.on('data', (chunk: Buffer) => (printed += chunk))
  child.stderr.on('data', (chunk: Buffer) => (printed += chunk))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const output = () => {
    const log = join(dir, 'error.log')
    return printed + (existsSync(log) ? readFileSync(log, 'utf8') : '')
  }
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
    running.delete(child)
    rmSync(dir, { recursive: true, force: true })
  }
  // Ready once the port takes connections and the process is still there a moment later (a
  // config error, or another process that took the port first, ends it).
  const deadline = Date.now() + 10_000
  for (;;) {
    const failure =
      child.exitCode !== null
        ? 'exited'
        : Date.now() > deadline
          ? 'was not listening after 10 s'
          : undefined
    if (failure) {
      const message = `${what} ${failure}:\n${output()}\n${config}`
      await stop()
      throw new Error(message)
    }
    if (await accepts(port)) {
      await sleep(50)
      if (child.exitCode === null) break
    }
    await sleep(20)
  }
  return { url: `http://127.0.0.1:${port}`, config, output, stop }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => resolve(true)).once('error', () => resolve(false))
    socket.once('close', () => socket.destroy())
    socket.once('connect', () => socket.end())
  })
}

/**
 * Debian's nginx in the foreground, one process, everything it writes inside a temp dir (it
 * would write /var/log/nginx and /run otherwise). `location` lines go next to `proxy_pass`,
 * `http` lines into the `http` block: the defaults are what nginx does with neither.
 */
export function startNginx(
  upstream: string,
  lines: { http?: string; location?: string } = {},
): Promise<RunningProxy> {
  return startProxy(
    'nginx',
    (dir, config) => ['-p', dir, '-e', join(dir, 'error.log'), '-c', config],
    NGINX!,
    (dir, port) => `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  ${lines.http ?? ''}
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass ${upstream};
      ${lines.location ?? ''}
    }
  }
}
`,
  )
}

/**
 * Debian's HAProxy in the foreground (`-db`). `defaults` holds the timeouts (they differ per
 * test) and options such as `option http-no-delay`; `timeout connect` is always 5 s.
 */
export function startHaproxy(upstream: string, defaults: string): Promise<RunningProxy> {
  const { hostname, port: upstreamPort } = new URL(upstream)
  return startProxy(
    'haproxy',
    (_dir, config) => ['-db', '-f', config],
    HAPROXY!,
    (_dir, port) => `global
  nbthread 1
defaults
  mode http
  timeout connect 5s
  ${defaults.trim().split('\n').join('\n  ')}
frontend in
  bind 127.0.0.1:${port}
  default_backend app
backend app
  server app ${hostname}:${upstreamPort || 80}
`,
  )
}

/** One latency row: how late events arrived through one configuration (ms). */
export interface LatencyFigure {
  events: number
  p50: number
  p99: number
  /** From sending the request to the response head. */
  head: number | null
  encoding: string
  note?: string
}

/** One idle-timeout row: whether the proxy cut a stream within the window, and when (ms). */
export interface IdleFigure {
  window: number
  cutAfter: number | null
  how: string | null
  heartbeats: number
  maxHeartbeatGap: number | null
}

/** What the suite measured, written to test-output/proxy-figures.json for docs/deployment.md. */
export const figures = {
  latency: {} as Record<string, LatencyFigure>,
  idle: {} as Record<string, IdleFigure>,
  resume: {} as Record<string, { lost: number; clientSentLastEventId: boolean }>,
}

/** Writes {@link figures} with the date, machine and proxy versions, and prints them. */
export function writeFigures(): void {
  if (Object.keys(figures.latency).length + Object.keys(figures.idle).length === 0) return
  const version = (program: string | undefined, flag: string) =>
    program ? spawnSync(program, [flag], { encoding: 'utf8' }) : undefined
  const nginx = version(NGINX, '-v')
  const haproxy = version(HAPROXY, '-v')
  const all = {
    date: new Date().toISOString(),
    machine: `${availableParallelism()} CPUs, Node ${process.version}, ${platform()}`,
    nginx: nginx?.stderr.trim(),
    haproxy: haproxy?.stdout.split('\n')[0],
    ...figures,
  }
  mkdirSync(outputDir, { recursive: true })
  writeFileSync(join(outputDir, 'proxy-figures.json'), `${JSON.stringify(all, null, 2)}\n`)
  console.log(`proxy figures (${join(outputDir, 'proxy-figures.json')}):`)
  console.table(figures.latency)
  console.table(figures.idle)
  console.table(figures.resume)
}
