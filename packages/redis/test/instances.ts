import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const packageDir = fileURLToPath(new URL('..', import.meta.url))
const fixtureDir = new URL('./fixtures/', import.meta.url)
const fixture = fileURLToPath(new URL('./fixtures/instance.ts', import.meta.url))
const tsconfig = fileURLToPath(new URL('./fixtures/tsconfig.json', import.meta.url))

/** An application instance in its own process (test/fixtures/instance.ts). */
export interface Instance {
  readonly url: string
  readonly process: ChildProcess
  /** SIGKILL, as a crash: no shutdown, sockets reset. */
  kill(): Promise<void>
}

const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/**
 * Starts an instance on a free port, sharing Redis at `redisUrl` under `prefix`. It runs
 * `@sse/core` and `@sse/redis` from their TypeScript sources through tsx (tsconfig paths), so it
 * needs no build, like the vitest run. `options.fixture` names another script of fixtures/ to
 * run, with `options.env` added to its environment.
 */
export function startInstance(
  redisUrl: string,
  prefix: string,
  options: { fixture?: string; env?: Record<string, string> } = {},
): Promise<Instance> {
  const script = options.fixture ? fileURLToPath(new URL(options.fixture, fixtureDir)) : fixture
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: packageDir,
    env: {
      ...process.env,
      REDIS_URL: redisUrl,
      PREFIX: prefix,
      TSX_TSCONFIG_PATH: tsconfig,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running.delete(child)
      resolve()
    })
  })
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`the instance did not start within 15 s:\n${output}`))
    }, 15_000)
    child.stderr!.on('data', (chunk) => {
      output += chunk
    })
    child.stdout!.on('data', (chunk) => {
      output += chunk
      const port = /listening (\d+)/.exec(output)?.[1]
      if (!port) return
      clearTimeout(timer)
      resolve({
        url: `http://127.0.0.1:${port}`,
        process: child,
        async kill() {
          child.kill('SIGKILL')
          await exited
        },
      })
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`the instance exited (${code ?? signal}) before listening:\n${output}`))
    })
  })
}
