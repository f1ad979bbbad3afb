import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The examples, each the same app in another framework, and the file its `start` script runs. */
export const examples = {
  express: 'src/server.ts',
  fastify: 'src/server.ts',
  koa: 'src/server.ts',
  hono: 'src/server.ts',
  nestjs: 'src/main.ts',
  // Needs Redis: REDIS_URL in the environment given to startExample.
  'multi-instance': 'src/server.ts',
} as const

/** The name of an example folder. */
export type ExampleName = keyof typeof examples

/** One running example: a child process serving on `url`. */
export interface RunningExample {
  readonly url: string
  readonly port: number
  /** The process id. */
  readonly pid: number
  /** What the process printed so far, stdout and stderr together. */
  output(): string
  /** Stops it as Ctrl+C would (SIGTERM), then kills it if it has not exited within 5 s. */
  stop(): Promise<void>
  /** Kills it as a crash would (SIGKILL): no shutdown work, its sockets reset. */
  kill(): Promise<void>
}

const examplesDir = fileURLToPath(new URL('../../', import.meta.url))
const running = new Set<ChildProcess>()
// Whatever happens to the test run, never leave a server behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/**
 * Starts an example as its `start` script does (tsx on its TypeScript entry, or on `entry`), on
 * `PORT=0` unless `env.PORT` is given, and resolves once it printed `listening on http://HOST:PORT`.
 * It imports `@sse/*` through node_modules, so the packages must be built (`pnpm build`).
 */
export async function startExample(
  name: ExampleName,
  env: Record<string, string> = {},
  entry: string = examples[name],
): Promise<RunningExample> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: `${examplesDir}${name}`,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  let output = ''
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running.delete(child)
      resolve()
    })
  })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail('did not print "listening on" within 60 s'), 60_000)
    function fail(why: string) {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(new Error(`examples/${name} ${why}. Output:\n${output}`))
    }
    const read = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /listening on (http:\/\/[\w.-]+:\d+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    }
    child.stdout.on('data', read)
    child.stderr.on('data', read)
    child.once('exit', (code, signal) => fail(`exited (${signal ?? code}) before listening`))
  })
  return {
    url,
    port: Number(new URL(url).port),
    pid: child.pid!,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGKILL')
      await exited
    },
  }
}
