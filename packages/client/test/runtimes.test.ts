// Smoke test of the built client on Deno and Bun: test/fixtures/runtime-client.ts imports
// dist/index.mjs (as a user of the package gets it) and reads a @sse/core hub stream served by
// node:http on port 0 here, with the runtime's own fetch and streams. The binaries come from the
// `bun` and `deno` npm packages (devDependencies; their platform packages ship them, found by
// runtimeBinary of @sse/test-utils), so nothing is downloaded. A missing binary, or an unbuilt
// client, skips the case with a warning that says why.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer, type ServerResponse } from 'node:http'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createHub } from '@sse/core'
import { openNodeStream } from '@sse/core/node'
import { listen, noRuntime, runtimeBinary } from '@sse/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..')

const fixture = 'test/fixtures/runtime-client.ts'
const runtimes = [
  {
    name: 'bun' as const,
    binary: runtimeBinary('bun', packageDir),
    args: [fixture],
  },
  {
    name: 'deno' as const,
    binary: runtimeBinary('deno', packageDir),
    // Reads: the fixture, dist and node_modules (eventsource-parser); net: the test's server.
    args: ['run', '--allow-net=127.0.0.1', '--allow-read', fixture],
  },
]
const built = existsSync(join(packageDir, 'dist/index.mjs'))

type Events = { tick: { n: number } }
type Line = { event: string; data: { n: number }; id: string } | { closed: string }

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Runs the fixture and collects the lines of JSON it prints. */
function run(binary: string, args: string[]) {
  const child: ChildProcess = spawn(binary, args, {
    cwd: packageDir,
    env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  cleanups.push(() => child.kill())
  const lines: Line[] = []
  let output = ''
  let pending = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk
    pending += chunk
    const parts = pending.split('\n')
    pending = parts.pop()!
    for (const part of parts) if (part.startsWith('{')) lines.push(JSON.parse(part))
  })
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  return { lines, exited, output: () => output }
}

describe.each(runtimes)('the built client on $name', ({ name, binary, args }) => {
  it('reads 3 events with for await, then resumes after a server-side cut with Last-Event-ID', async (ctx) => {
    const missing = !binary
      ? noRuntime(name)
      : !built
        ? `@sse/client is not built (${name} loads packages/client/dist): run pnpm build first`
        : undefined
    if (missing) {
      console.warn(`\n*** @sse/client on ${name}: SKIPPED, ${missing} ***\n`)
      ctx.skip(missing)
    }
    const hub = createHub<Events>({ heartbeat: false, retry: 50, retryJitter: 0 })
    const lastEventIds: (string | undefined)[] = []
    let current: ServerResponse | undefined
    const server = createServer((req, res) => {
      lastEventIds.push(req.headers['last-event-id'] as string | undefined)
      current = res
      void openNodeStream(req, res, { hub })
    })
    const listening = await listen(server)
    cleanups.push(() => listening.close())
    const publish = async (from: number, to: number) => {
      for (let n = from; n <= to; n++) await hub.publish('tick', { n })
    }

    const child = run(binary!, [...args, `${listening.url}/events`])
    const waitFor = (what: () => void) =>
      vi.waitFor(what, { timeout: 15_000, interval: 20 }).catch((error: Error) => {
        throw new Error(`${error.message}\n${name} printed:\n${child.output()}`)
      })
    // A runtime's first start compiles the fixture: allow it time.
    await waitFor(() => expect(hub.size).toBe(1))
    await publish(1, 3)
    await waitFor(() => expect(child.lines).toHaveLength(3))
    // The cut: the socket is destroyed under the open response, and a tick is published while
    // the client is away, so only a resume from its Last-Event-ID can bring it.
    current!.socket!.destroy()
    await publish(4, 4)
    await waitFor(() => expect(lastEventIds).toHaveLength(2))
    await waitFor(() => expect(hub.size).toBe(1))
    await publish(5, 5)
    expect(await child.exited, child.output()).toBe(0)

    const events = child.lines.filter((line) => 'event' in line)
    expect(events.map((e) => [e.event, e.data.n])).toEqual([1, 2, 3, 4, 5].map((n) => ['tick', n]))
    expect(new Set(events.map((e) => e.id)).size).toBe(5)
    expect(lastEventIds).toEqual([undefined, events[2]!.id])
    expect(child.lines.at(-1)).toEqual({ closed: 'aborted' }) // the loop was left after 5 ticks
  }, 30_000)
})
