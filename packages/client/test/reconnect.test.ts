import { afterEach, describe, expect, it, vi } from 'vitest'
import { backoffDelay, retryAfterDelay } from '../src/backoff'
import { connect } from '../src/index'
import { gaps, type ScriptedServer, scriptedServer, stop, streamHead } from './servers'

let server: ScriptedServer | undefined
afterEach(async () => {
  vi.restoreAllMocks()
  await server?.close()
  server = undefined
})

const fast = { minDelay: 20, maxDelay: 160, stableAfter: 150, raw: true } as const

describe('reconnects (C33)', () => {
  it('C33 backoff: floor * 2^n capped at maxDelay, jitter drawn between floor and ceiling', () => {
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(n, 20, 20, 160, () => 1))).toEqual([
      20, 40, 80, 160, 160,
    ])
    expect(backoffDelay(0, 20, 20, 160, () => 0.5)).toBe(20) // exactly retry after a stable one
    expect(backoffDelay(3, 20, 20, 160, () => 0)).toBe(20)
    expect(backoffDelay(3, 20, 20, 160, () => 0.5)).toBe(90)
    // A server's retry: above maxDelay is still honoured.
    expect(backoffDelay(5, 3000, 1000, 1000, () => 1)).toBe(3000)
    // retry: 0 is honoured once; failures after it still back off from minDelay.
    expect([0, 1, 2].map((n) => backoffDelay(n, 0, 20, 160, () => 1))).toEqual([0, 40, 80])
    expect(retryAfterDelay('2')).toBe(2000)
    expect(retryAfterDelay(new Date(10_000).toUTCString(), 4000)).toBe(6000)
    expect(retryAfterDelay('soon')).toBeUndefined()
  })

  it('C33 backs off exponentially on failures, and resets only after a stable connection', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(1) // the top of each jitter window
    let stableEnded = 0
    server = await scriptedServer(async (res, _req, n) => {
      if (n < 4) return void res.writeHead(500).end() // four failures: 20, 40, 80, 160 ms
      if (n === 4) {
        streamHead(res) // stays up longer than stableAfter, then ends
        await new Promise((resolve) => setTimeout(resolve, 250))
        stableEnded = performance.now()
        return void res.end('data: x\n\n')
      }
      if (n === 5) {
        streamHead(res) // short-lived: no reset
        return void res.end()
      }
      stop(res)
    })
    const stream = connect(server.url, fast)
    expect(await stream.closed).toEqual({ type: 'no-content' })
    const [g1, g2, g3, g4, , afterShort] = gaps(server.requests) as number[]
    const afterStable = server.requests[5]!.at - stableEnded
    // Lower bounds (timers never fire early), and one upper bound with room: 20 vs 160 ms.
    expect(g1).toBeGreaterThanOrEqual(17)
    expect(g2).toBeGreaterThanOrEqual(37)
    expect(g3).toBeGreaterThanOrEqual(77)
    expect(g4).toBeGreaterThanOrEqual(155)
    expect(afterStable).toBeLessThan(120) // back to the 20 ms floor (160 without the reset)
    expect(afterShort).toBeGreaterThanOrEqual(37) // the next step up: 40 ms
  })

  it('C33 honours Retry-After on 429 and 503', async () => {
    server = await scriptedServer((res, _req, n) => {
      if (n === 0) return void res.writeHead(429, { 'Retry-After': '1' }).end()
      if (n === 1) return void res.writeHead(503, { 'Retry-After': '1' }).end()
      stop(res)
    })
    const stream = connect(server.url, fast)
    expect(await stream.closed).toEqual({ type: 'no-content' })
    const [first, second] = gaps(server.requests)
    expect(first).toBeGreaterThanOrEqual(990)
    expect(second).toBeGreaterThanOrEqual(990)
  })

  it('C33 stops on 204 with the reason, without reconnecting', async () => {
    server = await scriptedServer((res) => stop(res))
    const stream = connect(server.url, fast)
    expect(await stream.closed).toEqual({ type: 'no-content' })
    await new Promise((resolve) => setTimeout(resolve, 60))
    expect(server.requests).toHaveLength(1)
  })

  it('C33 stops on a 4xx other than 408 and 429; retries 408 and 5xx', async () => {
    server = await scriptedServer((res, _req, n) => {
      res.writeHead([408, 502, 500, 401][n] ?? 404).end('{"error":"no"}')
    })
    const stream = connect(server.url, fast)
    expect(await stream.closed).toEqual({ type: 'status', status: 401 })
    expect(server.requests).toHaveLength(4)
  })

  it('C33 stops on a wrong Content-Type with the reason', async () => {
    server = await scriptedServer((res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<p>login</p>')
    })
    const stream = connect(server.url, fast)
    expect(await stream.closed).toEqual({ type: 'content-type', contentType: 'text/html' })
    expect(server.requests).toHaveLength(1)
  })

  it('C33 a stream silent for longer than stallTimeout is aborted and reopened', async () => {
    server = await scriptedServer((res, _req, n) => {
      if (n > 1) return stop(res)
      streamHead(res)
      res.write(`id: ${n + 1}\ndata: x\n\n`) // then silence: no heartbeat
    })
    const stream = connect(server.url, { ...fast, stallTimeout: 100 })
    expect(await stream.closed).toEqual({ type: 'no-content' })
    expect(server.requests.map((r) => r.lastEventId)).toEqual([undefined, '1', '2'])
    expect(gaps(server.requests)[0]).toBeGreaterThanOrEqual(100)
  })

  it('C33 heartbeat comments keep a quiet stream alive', async () => {
    server = await scriptedServer((res) => {
      streamHead(res)
      const timer = setInterval(() => res.write(':\n\n'), 20)
      res.on('close', () => clearInterval(timer))
    })
    const stream = connect(server.url, { ...fast, stallTimeout: 250 })
    await new Promise((resolve) => setTimeout(resolve, 600))
    expect(server.requests).toHaveLength(1)
    stream.close()
    expect(await stream.closed).toMatchObject({ type: 'aborted' })
  })

  it('a network error is retried; the signal ends the stream with reason aborted', async () => {
    const controller = new AbortController()
    const attempts: string[] = []
    const stream = connect('http://127.0.0.1:1/events', {
      ...fast,
      signal: controller.signal,
      fetch: (url, init) => {
        attempts.push(url)
        return fetch(url, init)
      },
    })
    await vi.waitFor(() => expect(attempts.length).toBeGreaterThanOrEqual(3))
    controller.abort('done')
    expect(await stream.closed).toEqual({ type: 'aborted', reason: 'done' })
  })
})
