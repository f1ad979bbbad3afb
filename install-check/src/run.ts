import { type ChildProcess, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import type { Block, RunSpec } from './blocks.ts'
import type { Project } from './projects.ts'
import type { Report } from './report.ts'
import { cleanEnv } from './util.ts'

const hook = join(import.meta.dirname, 'listen-hook.cjs')

export interface RunContext {
  /** `redis://127.0.0.1:<port>` of the redis-server started for this run, if one is. */
  redisUrl?: string
  slot: <T>(task: () => Promise<T>) => Promise<T>
  report: Report
}

/**
 * Runs a whole-program block as written, with the installed tsx, as ESM (esm/) and as CommonJS
 * (cjs/, which loads the packages' .cjs builds), and reads its stream like `curl -N` would.
 */
export async function runBlock(project: Project, block: Block, context: RunContext) {
  for (const format of ['esm', 'cjs']) {
    const problem = await context.slot(async () => {
      const started = performance.now()
      const result = await runOnce(project, block, format, context.redisUrl)
      context.report.time(`run ${block.file} ${format}`, performance.now() - started)
      return result
    })
    if (problem)
      context.report.fail({
        subject: block.subject,
        area: 'run',
        where: `${block.readme}:${block.code.line} (project ${project.key})`,
        configs: [`${format}${block.run?.detected ? ', detected program' : ''}`],
        message: `GET ${block.run?.path}: ${problem}`,
      })
  }
}

/** Resolves with a description of what went wrong, or undefined when the stream was right. */
async function runOnce(project: Project, block: Block, format: string, redisUrl?: string) {
  const env = cleanEnv({ PORT: '0' })
  // tsx reads decorator and JSX settings from a tsconfig: the block's, when it has extra options.
  if (Object.keys(block.extra).length > 0) {
    const file = join(project.dir, `tsconfig.run.${block.file}.json`)
    writeFileSync(file, JSON.stringify({ compilerOptions: block.extra }))
    env.TSX_TSCONFIG_PATH = file
  }
  if (redisUrl && block.code.code.includes('REDIS_URL')) env.REDIS_URL = redisUrl
  const child = spawn(process.execPath, ['--require', hook, '--import', 'tsx', block.file], {
    cwd: join(project.dir, format),
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  })
  let output = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (output += d))
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (output += d))
  try {
    const listening = await waitForListen(child, 20_000)
    if (typeof listening === 'string') return `${listening}\n${explain(output)}`
    return await readStream(listening, block.run ?? { path: '/', headers: {} }, 8_000)
  } finally {
    await stop(child)
  }
}

interface Listening {
  port: number
  address: string
}

function waitForListen(child: ChildProcess, ms: number): Promise<Listening | string> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(`did not listen within ${ms / 1000} s`), ms)
    child.once('message', (message: Listening) => {
      clearTimeout(timer)
      resolve(message)
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      resolve(`exited (${signal ?? `code ${code}`}) before listening`)
    })
  })
}

/**
 * A GET as `curl -N -H 'Accept: text/event-stream'` does it: the status, the content type and
 * at least one whole SSE frame (a block ending in a blank line: a `retry:`, a comment, an event).
 */
function readStream(
  { port, address }: Listening,
  { path, headers }: Pick<RunSpec, 'path' | 'headers'>,
  ms: number,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    // A server on every interface is reached over IPv4 loopback; else at the address it chose.
    const host = address === '::' || address === '0.0.0.0' ? '127.0.0.1' : address
    const req = request({
      host,
      port,
      path,
      headers: { accept: 'text/event-stream', ...headers },
    })
    const timer = setTimeout(() => {
      req.destroy()
      resolve(`no complete SSE frame within ${ms / 1000} s`)
    }, ms)
    const finish = (problem: string | undefined) => {
      clearTimeout(timer)
      req.destroy()
      resolve(problem)
    }
    req.on('error', (error) => finish(`request failed: ${error.message}`))
    req.on('response', (res) => {
      const type = String(res.headers['content-type'] ?? '')
      if (res.statusCode !== 200) return finish(`status ${res.statusCode}, want 200`)
      if (!type.startsWith('text/event-stream'))
        return finish(`Content-Type ${type || '(none)'}, want text/event-stream`)
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
        if (/(\r\n|\r|\n)(\r\n|\r|\n)/.test(body)) finish(undefined)
      })
      res.on('end', () => finish(`stream ended without a complete frame: ${JSON.stringify(body)}`))
    })
    req.end()
  })
}

/** The error a crashed program printed, without its stack: what a reader needs to see first. */
function explain(output: string): string {
  const lines = output
    .split('\n')
    .filter((l) => l.trim() && !/^\s+at |^Node\.js v|^\s*\^+\s*$|^\s*[{}]\s*$/.test(l))
  const first = lines.findIndex((l) => /^\s*\w*Error\b[^(]*:|^\s*\w*Error \[/.test(l))
  return (first >= 0 ? lines.slice(first, first + 3) : lines.slice(-4)).join('\n')
}

async function stop(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 2_000)
  await exited
  clearTimeout(timer)
}
