import { RecordingClient } from '@sse/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { headerPairs } from '../src/headers'
import { openStream } from '../src/open'
import { type SseStream, ticker } from '../src/stream'

type Events = { tick: { n: number }; 'stream-error': string }

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function until(check: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs
  while (!check() && Date.now() < deadline) await sleep(10)
  expect(check()).toBe(true)
}

async function open(options: Parameters<typeof openStream<Events>>[1] = {}) {
  const client = new RecordingClient()
  const session = await openStream<Events>(client.connection(), options)
  return { client, session }
}

describe('SseStream', () => {
  it('writes the head and a retry frame at once (C01-C03)', async () => {
    const { client } = await open({ retry: 1500, retryJitter: 0 })
    expect(client.head).toEqual({
      status: 200,
      headers: {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache, no-transform',
        'X-Accel-Buffering': 'no',
        Connection: 'keep-alive',
      },
    })
    expect(client.text).toBe('retry: 1500\n\n')
  })

  it('opens with a comment when retry is off, and jitters retry within its bound', async () => {
    expect((await open({ retry: false })).client.text).toBe(':\n\n')
    for (let i = 0; i < 20; i++) {
      const retry = Number((await open({ retry: 1000, retryJitter: 0.5 })).client.text.slice(7))
      expect(retry).toBeGreaterThanOrEqual(500)
      expect(retry).toBeLessThan(1500)
    }
  })

  it('types send against the event map and throws TypeError before writing', async () => {
    const { client, session } = await open()
    expect(session.send('tick', { n: 1 })).toBe(true)
    // @ts-expect-error: data must match the declared event
    session.send('tick', { n: 'x' })
    const before = client.text
    expect(() => session.send({ event: 'tick', data: { n: 1 }, id: 'a\nb' })).toThrow(/"id"/)
    expect(client.text).toBe(before)
  })

  it('sends heartbeats only after the idle interval, and writes postpone them (C15)', async () => {
    const heartbeat = 80
    const { client, session } = await open({ heartbeat, retry: false })
    for (let i = 0; i < 6; i++) {
      await sleep(30)
      session.send('tick', { n: i })
    }
    await until(() => client.chunks.filter((c) => c === ':\n\n').length >= 3)
    session.close()
    // Checked on the recorded times, not on sleeps that a loaded machine stretches: every
    // heartbeat comes at least `heartbeat` ms after the write before it, less one tick of the
    // shared ticker (writes are stamped with its clock, an eighth of the heartbeat old at most)
    // and 1 ms for clock rounding.
    const tick = heartbeat / 8
    let last = client.times[0]!
    for (const [i, chunk] of client.chunks.entries()) {
      const at = client.times[i]!
      if (chunk === ':\n\n' && i > 0) {
        expect(at - last).toBeGreaterThanOrEqual(heartbeat - tick - 1)
      }
      last = at
    }
  })

  it('ends the stream after its lifetime, shortened by at most the jitter', async () => {
    const started = performance.now()
    const { session } = await open({ maxLifetime: 150, lifetimeJitter: 0.2, heartbeat: false })
    await until(() => session.closed)
    expect(session.closeReason).toBe('lifetime')
    expect(performance.now() - started).toBeGreaterThanOrEqual(150 * 0.8 - 1)
  })

  it('drops a client whose queue goes over maxBufferedBytes, and only then (C23)', async () => {
    const { client, session } = await open({ maxBufferedBytes: 64 * 1024 })
    client.paused = true
    let sent = 0
    while (!session.closed && sent < 10_000) {
      session.send('tick', { n: sent++ })
    }
    expect(session.closeReason).toBe('slow-consumer')
    expect(client.destroyed).toBe(true)
    expect(client.queued).toBeGreaterThan(64 * 1024)
    expect(client.queued).toBeLessThan(64 * 1024 + 100)
  })

  it('drain() resolves on drain and on close, never hangs', async () => {
    const { client, session } = await open()
    client.paused = true
    client.highWaterMark = 10
    expect(session.send('tick', { n: 1 })).toBe(false)
    let drained = false
    const waiting = session.drain().then(() => {
      drained = true
    })
    await sleep(5)
    expect(drained).toBe(false)
    client.resume()
    await waiting
    client.paused = true
    session.send('tick', { n: 2 })
    const again = session.drain()
    client.leave()
    await again
  })

  it('pipes an async generator with backpressure and stops it when the client leaves (C24)', async () => {
    const { client, session } = await open()
    client.paused = true
    client.highWaterMark = 200
    let produced = 0
    let finalized = 0
    async function* numbers() {
      try {
        for (;;) yield { event: 'tick' as const, data: { n: produced++ } }
      } finally {
        finalized++
      }
    }
    const piping = session.pipe(numbers())
    await sleep(20)
    expect(produced).toBeLessThan(20)
    // The client reads once, then stalls again: the generator moves on by about one window.
    client.resume()
    client.paused = true
    await sleep(5)
    expect(produced).toBeLessThan(40)
    client.leave()
    await piping
    await sleep(5)
    expect(finalized).toBe(1)
    expect(session.closeReason).toBe('client')
  })

  it('closes the stream when a piped source ends or fails', async () => {
    const done = await open()
    await done.session.pipe(
      (async function* () {
        yield 'a'
        yield 'b'
      })(),
    )
    expect(done.client.text).toContain('data: a\n\ndata: b\n\n')
    expect(done.session.closeReason).toBe('server')
    const failing = await open()
    const error = new Error('source broke')
    const onError = vi.fn()
    await expect(
      failing.session.pipe(
        (async function* () {
          yield 'a'
          throw error
        })(),
        { onError },
      ),
    ).resolves.toBeUndefined()
    expect(onError).toHaveBeenCalledWith(error)
    expect(failing.session.closeReason).toBe('error')
  })

  it('sends errorMessage last when a piped source fails, and never rejects, awaited or not', async () => {
    const { client, session } = await open()
    const failing = (async function* () {
      yield 'a'
      throw new Error('broke')
    })()
    const onError = vi.fn()
    const unhandled = vi.fn()
    process.on('unhandledRejection', unhandled)
    try {
      // Not awaited, as a handler that starts a pipe and returns would do.
      void session.pipe(failing, {
        errorMessage: (error) => ({ event: 'stream-error', data: (error as Error).message }),
        onError,
      })
      await new Promise((resolve) => setTimeout(resolve, 20))
      expect(unhandled).not.toHaveBeenCalled()
    } finally {
      process.off('unhandledRejection', unhandled)
    }
    expect(onError).toHaveBeenCalledTimes(1)
    expect(client.text.endsWith('event: stream-error\ndata: broke\n\n')).toBe(true)
    expect(session.closeReason).toBe('error')
  })

  it('cancels a ReadableStream source when the client leaves (C24)', async () => {
    const { client, session } = await open()
    let cancelled = false
    const source = new ReadableStream<string>({
      pull: (controller) =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            if (!cancelled) controller.enqueue('x')
            resolve()
          }, 5),
        ),
      cancel: () => {
        cancelled = true
      },
    })
    const piping = session.pipe(source)
    await sleep(30)
    client.leave()
    await piping
    await sleep(5)
    expect(cancelled).toBe(true)
  })

  it('leaves no timer behind once every session is closed', async () => {
    const before = ticker.size
    const sessions = await Promise.all(Array.from({ length: 50 }, () => open({ heartbeat: 50 })))
    expect(ticker.size).toBe(before + 50)
    for (const { client } of sessions) client.leave()
    expect(ticker.size).toBe(before)
  })
})

describe('headerPairs', () => {
  it('keeps every Set-Cookie of a Headers object, and drops HTTP/1-only headers on HTTP/2', () => {
    const headers = new Headers([
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
      ['Connection', 'close'],
      ['X-Id', '7'],
    ])
    expect(headerPairs(headers, true)).toEqual([
      ['set-cookie', ['a=1', 'b=2']],
      ['x-id', '7'],
    ])
    expect(headerPairs({ Connection: 'close', 'X-Id': 7, Gone: undefined }, false)).toEqual([
      ['Connection', 'close'],
      ['X-Id', 7],
    ])
  })
})

describe('types', () => {
  it('checks send against the event map, and a typed session is still a session', async () => {
    const { session } = await open()
    // @ts-expect-error: no such event
    session.send('tock', { n: 1 })
    // @ts-expect-error: data must match the declared event
    session.send({ event: 'tick', data: { n: '1' } })
    const untyped: SseStream = session
    expect(untyped.send({ data: 'plain' })).toBe(true)
  })
})
