import { execFileSync } from 'node:child_process'
import { openHttp1Stream, type StreamClient, waitFor } from '@sse/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type RunningExample, startExample } from './examples.ts'
import { describeRedis, type RedisServer, startRedis } from './redis.ts'

/** The cluster's workers: the children of the primary that run the script (not tsx's esbuild). */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid), '-f', 'workers.ts'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number)
  } catch {
    return [] // pgrep exits 1 when there is none
  }
}

describeRedis('examples/multi-instance on every core: src/workers.ts (node:cluster)', () => {
  let redis: RedisServer
  let app: RunningExample
  const clients: StreamClient[] = []

  beforeAll(async () => {
    redis = await startRedis()
    app = await startExample(
      'multi-instance',
      { REDIS_URL: redis.url, WORKERS: '2', TICK_MS: '3600000' },
      'src/workers.ts',
    )
    // The first worker printed "listening"; wait for the second.
    await waitFor('both workers to listen', () => app.output().split('listening on').length > 2, {
      timeout: 30_000,
    })
  }, 60_000)

  afterAll(async () => {
    for (const client of clients) client.close()
    await app?.stop()
    await redis?.stop()
  })

  it('two workers share the port: streams land on both, an event published on one reaches all, a killed worker is replaced, SIGTERM stops them all', async () => {
    for (let i = 0; i < 20; i++) clients.push(await openHttp1Stream(app.url))
    const byInstance = new Map<string, number>()
    for (const client of clients) {
      const instance = String(client.headers['x-instance'])
      byInstance.set(instance, (byInstance.get(instance) ?? 0) + 1)
    }
    expect([...byInstance.keys()].sort()).toEqual([
      expect.stringMatching(/\/w1$/),
      expect.stringMatching(/\/w2$/),
    ])
    // Round robin: 10 and 10, give or take the order the primary saw them in.
    for (const count of byInstance.values()) expect(count).toBeGreaterThanOrEqual(8)

    const response = await fetch(`${app.url}/notify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'to every worker' }),
    })
    expect(response.status).toBe(202)
    for (const client of clients) await client.waitForText('to every worker')

    // A crash of one worker: its streams end, the primary starts it again under its name.
    const workers = childrenOf(app.pid)
    expect(workers).toHaveLength(2)
    process.kill(workers[0]!, 'SIGKILL')
    await waitFor('a worker to be started again', () => /starting it again/.test(app.output()), {
      timeout: 15_000,
    })
    await waitFor('two workers again', () => childrenOf(app.pid).length === 2, { timeout: 15_000 })
    const closed = clients.filter((client) => client.closed).length
    expect(closed).toBeGreaterThanOrEqual(8)
    expect(closed).toBeLessThanOrEqual(12)
    await waitFor('the new worker to listen', () => app.output().split('listening on').length > 3, {
      timeout: 30_000,
    })
    const seen = new Set<string>()
    for (let i = 0; i < 6; i++) {
      const client = await openHttp1Stream(app.url)
      clients.push(client)
      seen.add(String(client.headers['x-instance']))
    }
    expect(seen.size).toBe(2)

    const started = Date.now()
    await app.stop()
    // Well within stop()'s 5 s before SIGKILL: the workers shut down and the primary exited.
    expect(Date.now() - started).toBeLessThan(4_500)
    expect(childrenOf(app.pid)).toEqual([])
  }, 60_000)
})
