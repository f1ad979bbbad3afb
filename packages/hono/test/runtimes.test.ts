// Smoke test of the web path on Bun and Deno: test/fixtures/web-app.ts served by the runtime's
// own `fetch` server, read by real clients from Node. The binaries come from the `bun` and `deno`
// npm packages (devDependencies): their platform packages ship them, so no install script and no
// download is needed. A missing binary, or an unbuilt @sse/core (the runtimes load its dist),
// skips the case with a warning that says why.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { noRuntime, runtimeBinary } from '@sse/test-utils'
import { EventSource } from 'eventsource'
import { afterEach, describe, expect, it } from 'vitest'
import { open, sleep, waitFor } from './helpers'

const here = dirname(fileURLToPath(import.meta.url))
const packageDir = join(here, '..')

const runtimes = [
  {
    name: 'bun' as const,
    binary: runtimeBinary('bun', packageDir),
    args: ['test/fixtures/web-app.ts'],
  },
  {
    name: 'deno' as const,
    binary: runtimeBinary('deno', packageDir),
    args: ['run', '--allow-net', '--allow-read', '--allow-env', 'test/fixtures/web-app.ts'],
  },
]
const coreBuilt = ['index.mjs', 'web.mjs', 'node.mjs'].every((file) =>
  existsSync(join(packageDir, '../core/dist', file)),
)

const children: ChildProcess[] = []
const clients: { close(): void }[] = []
afterEach(() => {
  for (const client of clients.splice(0)) client.close()
  for (const child of children.splice(0)) child.kill()
})

function startApp(binary: string, args: string[]): Promise<string> {
  const child = spawn(binary, args, {
    cwd: packageDir,
    env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no port within 15 s:\n${output}`)), 15_000)
    const take = (chunk: Buffer) => {
      output += chunk
      const port = /listening (\d+)/.exec(output)?.[1]
      if (port) {
        clearTimeout(timer)
        resolve(`http://127.0.0.1:${port}`)
      }
    }
    child.stdout!.on('data', take)
    child.stderr!.on('data', take)
    child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)))
  })
}

describe.each(runtimes)('web path on $name', ({ name, binary, args }) => {
  it('streams, outlives the idle timeout, broadcasts, resumes, notices disconnects', async (ctx) => {
    const missing = !binary
      ? noRuntime(name)
      : !coreBuilt
        ? `@sse/core is not built (${name} loads packages/core/dist): run pnpm build first`
        : undefined
    if (missing) {
      console.warn(`[@sse/hono] SKIPPED the ${name} smoke test: ${missing}`)
      ctx.skip(missing)
    }
    const url = await startApp(binary!, args)

    const raw = await open(url)
    clients.push(raw)
    expect(raw.status).toBe(200)
    expect(raw.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(raw.headers['cache-control']).toBe('no-cache, no-transform')
    expect(raw.headers['x-preset']).toBe('kept')

    // Bun serves the fixture with `idleTimeout: 1` (it cuts idle connections after about 4 s):
    // a stream must be exempt from it, as from Node's socket timeout (C18).
    await raw.waitForEvents(1)
    await sleep(5000)
    expect(raw.isEnded()).toBe(false)

    const received: MessageEvent[] = []
    const source = new EventSource(`${url}/events`)
    clients.push(source)
    source.addEventListener('tick', (event) => received.push(event))
    await waitFor('the EventSource to get the first tick', () => received.length >= 1, 10_000)
    await raw.waitForEvents(1)
    await waitForSize(url, 2)

    const id = await (await fetch(`${url}/publish?n=5`, { method: 'POST' })).text()
    await waitFor('the broadcast', () => received.length >= 2)
    await raw.waitForEvents(2)
    expect(received[1]).toMatchObject({ lastEventId: id, data: '{"n":5}' })
    expect(raw.events[1]).toMatchObject({ id, data: '{"n":5}' })

    source.close()
    raw.close()
    await waitForSize(url, 0)

    await fetch(`${url}/publish?n=6`, { method: 'POST' })
    const resumed = await open(url, '/events', { 'last-event-id': id })
    clients.push(resumed)
    expect(resumed.headers['sse-replay']).toBe('complete')
    await resumed.waitForEvents(2)
    // The replay (n: 6) and the callback's greeting (n: 0); nothing from before the cursor.
    expect(resumed.events.map((e) => e.data).sort()).toEqual(['{"n":0}', '{"n":6}'])
  })
})

async function size(url: string): Promise<number> {
  return Number(await (await fetch(`${url}/size`)).text())
}

async function waitForSize(url: string, expected: number): Promise<void> {
  const deadline = Date.now() + 10_000
  while ((await size(url)) !== expected) {
    if (Date.now() > deadline) throw new Error(`hub size never reached ${expected}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
