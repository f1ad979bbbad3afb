import { spawn } from 'node:child_process'
import { createServer } from 'node:net'

export interface ExecResult {
  code: number | null
  stdout: string
  stderr: string
  ms: number
  timedOut: boolean
}

export interface ExecOptions {
  cwd: string
  env?: NodeJS.ProcessEnv
  timeoutMs?: number
}

/**
 * The environment of a shell outside the repository. `pnpm test:install` runs the harness from
 * pnpm's bin shims, which set NODE_PATH to the workspace's hoisted node_modules: inherited, it
 * lets `require()` in a fresh project find packages its README never installed. pnpm's and npm's
 * own variables and the workspace's .bin folders on PATH go too.
 */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|NODE_PATH$|NODE_OPTIONS$|TSX_|INIT_CWD$)/i.test(name)) continue
    env[name] = value
  }
  env.PATH = (process.env.PATH ?? '')
    .split(':')
    .filter((dir) => !dir.includes('/node_modules/'))
    .join(':')
  return { ...env, ...extra }
}

/** Runs a command to completion, capturing its output; never throws on a non-zero exit. */
export function exec(command: string, args: string[], options: ExecOptions): Promise<ExecResult> {
  const started = performance.now()
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, options.timeoutMs ?? 300_000)
    const done = (code: number | null) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, ms: performance.now() - started, timedOut })
    }
    child.on('error', (error) => {
      stderr += String(error)
      done(null)
    })
    child.on('close', done)
  })
}

/**
 * A counting semaphore. The machine has 2 cores shared with other work, so every heavy child
 * process (npm, tsc, a README program) takes a slot; the pipelines of all packages still start
 * together and interleave their cheap steps.
 */
export function limiter(slots: number): <T>(task: () => Promise<T>) => Promise<T> {
  let free = slots
  const waiting: Array<() => void> = []
  return async (task) => {
    if (free > 0) free--
    else await new Promise<void>((resolve) => waiting.push(resolve))
    try {
      return await task()
    } finally {
      const next = waiting.shift()
      if (next) next()
      else free++
    }
  }
}

/** A TCP port that was free a moment ago (for redis-server, which cannot report its own). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** The last lines of a process's output, enough to see an error without flooding the report. */
export function tail(text: string, lines = 6): string {
  return text.trim().split('\n').slice(-lines).join('\n')
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}
