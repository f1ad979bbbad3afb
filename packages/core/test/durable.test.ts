import {
  type ChatEvents,
  tokenData as data,
  expectedTokens,
  lastEvent as last,
  fetchStream as request,
  sleep,
  tokens,
  waitFor,
} from '@sse/test-utils'
import { describe, expect, it } from 'vitest'
import { createDurableStreams } from '../src/durable'
import { DurableStopped } from '../src/durable-producer'
import { createHub } from '../src/hub'
import { LEASE, memoryApp } from './memory-chat'

describe('durable streams on MemoryStore (C29-C31)', () => {
  it('C29: a POST streams the answer and names where to resume; a GET with Last-Event-ID gets the rest once, then done, then 204', async () => {
    const app = await memoryApp(tokens(30))
    const post = await request(`${app.base}/chat`, { method: 'POST', user: 'ann' })
    expect(post.status).toBe(200)
    const location = post.headers.get('sse-resume')!
    expect(location).toMatch(/^\/chat\/[A-Za-z0-9_-]{22}$/)
    await post.reader.until('8 tokens', () => data(post).length >= 8)
    post.abort()
    const seen = data(post)
    const id = post.reader.events.at(-1)!.id
    const resumed = await request(`${app.base}${location}`, { user: 'ann', lastEventId: id })
    expect(resumed.status).toBe(200)
    expect(resumed.headers.get('sse-resume')).toBe(location)
    await resumed.done
    expect([...seen, ...data(resumed)]).toEqual(Array.from({ length: 30 }, (_, i) => `t${i}`))
    expect(last(resumed)).toMatchObject({ event: 'done', data: '{"tokens":30}' })
    // At the end: nothing more, and EventSource-style clients stop.
    const after = await request(`${app.base}${location}`, {
      user: 'ann',
      lastEventId: last(resumed)!.id,
    })
    expect(after.status).toBe(204)
    // Without an id (a reload that lost it, a second tab): the whole answer, then done.
    const full = await request(`${app.base}${location}`, { user: 'ann' })
    await full.done
    expect(data(full)).toHaveLength(30)
    expect(last(full)?.event).toBe('done')
    expect(app.runs()).toBe(1)
    expect(app.errors).toEqual([])
  })

  it("a durable stream opens with its hub's defaults (retry)", async () => {
    const app = await memoryApp(tokens(3, 1), { retry: 200 })
    const post = await request(`${app.base}/chat`, { method: 'POST', user: 'ann' })
    await post.done
    // The hub's 200 ms, spread by the default jitter of ±50%; the built-in default is 3 s.
    expect(post.reader.retries).toHaveLength(1)
    expect(post.reader.retries[0]).toBeGreaterThanOrEqual(100)
    expect(post.reader.retries[0]).toBeLessThanOrEqual(300)
  })

  it('C29: a client that leaves does not stop the answer; a finished answer replays until its TTL, then 404', async () => {
    const app = await memoryApp(tokens(10, 2), { ttl: 300 })
    const post = await request(`${app.base}/chat`, { method: 'POST', user: 'ann' })
    const location = post.headers.get('sse-resume')!
    post.abort()
    await sleep(100)
    const later = await request(`${app.base}${location}`, { user: 'ann' })
    await later.done
    expect(data(later)).toHaveLength(10)
    expect(last(later)?.event).toBe('done')
    await sleep(350)
    const expired = await request(`${app.base}${location}`, { user: 'ann' })
    expect(expired.status).toBe(404)
    expect(expired.headers.get('content-type')).toMatch(/^application\/json/)
  })

  it('with cancelOnDisconnect, the starting client leaving cancels the answer', async () => {
    let signal: AbortSignal | undefined
    const app = await memoryApp(
      async (out, s) => {
        signal = s
        for (let i = 0; i < 1000 && !s.aborted; i++) {
          await sleep(5)
          await out.send('token', `t${i}`).catch(() => {})
        }
      },
      { cancelOnDisconnect: true },
    )
    const post = await request(`${app.base}/chat`, { method: 'POST', user: 'ann' })
    await post.reader.until('2 tokens', () => data(post).length >= 2)
    post.abort()
    await waitFor('the producer to be cancelled', () => signal?.aborted === true)
    const replay = await request(`${app.base}${post.headers.get('sse-resume')}`, { user: 'ann' })
    await replay.done
    expect(last(replay)).toMatchObject({ event: 'error', data: '{"reason":"cancelled"}' })
  })

  it("another user's resume or cancel gets 404 and learns nothing; a malformed id too", async () => {
    const app = await memoryApp(tokens(5, 1))
    const post = await request(`${app.base}/chat`, { method: 'POST', user: 'ann' })
    const location = post.headers.get('sse-resume')!
    await post.done
    for (const user of ['bob', undefined]) {
      const other = await request(`${app.base}${location}`, { user })
      await other.done
      expect(other.status).toBe(404)
      expect(other.reader.text()).not.toContain('t0')
      const cancel = await fetch(`${app.base}${location}`, {
        method: 'DELETE',
        headers: user ? { 'x-user': user } : {},
      })
      expect(cancel.status).toBe(404)
    }
    for (const bad of ['x', '../../etc', 'A'.repeat(23), '%00']) {
      expect((await request(`${app.base}/chat/${bad}`, { user: 'ann' })).status).toBe(404)
    }
  })

  it('C30: a producer that throws ends the stream with a stored error; the hub reports it', async () => {
    const app = await memoryApp(async (out) => {
      await out.send('token', 't0')
      throw new Error('model failed')
    })
    const post = await request(`${app.base}/chat`, { method: 'POST', user: 'ann' })
    await post.done
    expect(data(post)).toEqual(['t0'])
    expect(last(post)).toMatchObject({ event: 'error', data: '{"reason":"failed"}' })
    expect(app.errors).toMatchObject([{ message: 'model failed' }])
    const again = await request(`${app.base}${post.headers.get('sse-resume')}`, { user: 'ann' })
    await again.done
    expect(last(again)?.event).toBe('error')
  })

  it('C30: when the producer is gone (nobody renews its lease), readers get error producer-lost within two leases', async () => {
    const app = await memoryApp(tokens(1))
    const backend = app.store.durable
    // What a producer's process leaves behind when it dies: a running stream nobody renews.
    const id = 'AAAAAAAAAAAAAAAAAAAAAA'
    backend.create({
      id,
      token: 'dead',
      owner: 'ann',
      idempotencyKey: undefined,
      ttl: 60_000,
      lease: LEASE,
    })
    backend.append(id, 'dead', [{ log: `d${id}`, event: 'token', data: 'before' }])
    const started = Date.now()
    const reader = await request(`${app.base}/chat/${id}`, { user: 'ann' })
    await reader.done
    expect(Date.now() - started).toBeLessThan(2 * LEASE + 100)
    expect(data(reader)).toEqual(['before'])
    expect(last(reader)).toMatchObject({ event: 'error', data: '{"reason":"producer-lost"}' })
    // Fenced: the old producer can no longer write.
    expect(
      backend.append(id, 'dead', [{ log: `d${id}`, event: 'token', data: 'late' }]),
    ).toBeUndefined()
  })

  it('C30: a producer that stalls past its lease is fenced: it stops, and nothing it sends is stored', async () => {
    let late: unknown
    const app = await memoryApp(async (out, signal) => {
      await out.send('token', 't0')
      // The event loop is blocked for longer than the lease (a GC pause, a sync parse).
      const until = Date.now() + 2.5 * LEASE
      while (Date.now() < until) {}
      await sleep(LEASE)
      try {
        await out.send('token', 'late')
      } catch (error) {
        late = error
      }
      expect(signal.aborted).toBe(true)
    })
    const post = await request(`${app.base}/chat`, { method: 'POST', user: 'ann' })
    await post.done
    expect(data(post)).toEqual(['t0'])
    expect(last(post)).toMatchObject({ event: 'error', data: '{"reason":"producer-lost"}' })
    await waitFor('the producer to be told', () => late !== undefined)
    expect(late).toBeInstanceOf(DurableStopped)
    expect(app.errors).toEqual([])
  })

  it('a store that fails for a while within the lease loses nothing: the producer writes again; past a lease of failures it gives up with error failed', async () => {
    const app = await memoryApp(tokens(20, 5))
    const backend = app.store.durable
    const append = backend.append.bind(backend)
    // The store fails every write while `down` (as Redis does while it restarts); renewals
    // still go through, so only the retry's own bound can end an outage that never ends.
    let down = false
    let failed = 0
    backend.append = (...args) => {
      if (!down) return append(...args)
      failed++
      throw new Error('store unreachable')
    }
    const post = await request(`${app.base}/chat`, { method: 'POST', user: 'ann' })
    await waitFor('5 tokens', () => data(post).length >= 5)
    down = true
    await sleep(LEASE / 2)
    down = false
    await post.done
    expect(failed).toBeGreaterThan(1)
    expect(data(post)).toEqual(expectedTokens(20))
    expect(last(post)?.event).toBe('done')
    expect(app.errors).toEqual([])

    const second = await request(`${app.base}/chat`, { method: 'POST', user: 'ann' })
    await waitFor('5 tokens', () => data(second).length >= 5)
    down = true
    await second.done
    expect(last(second)).toMatchObject({ event: 'error', data: '{"reason":"failed"}' })
    expect(app.errors).toMatchObject([{ message: 'store unreachable' }])
  })

  it('C31: one idempotency key runs the generation once', async () => {
    let runs = 0
    const app = await memoryApp(async (out) => {
      runs++
      await sleep(50)
      await out.send('token', 'only')
    })
    const [a, b] = await Promise.all([
      request(`${app.base}/chat`, { method: 'POST', user: 'ann', key: 'k1' }),
      request(`${app.base}/chat`, { method: 'POST', user: 'ann', key: 'k1' }),
    ])
    expect(a.headers.get('sse-resume')).toBe(b.headers.get('sse-resume'))
    expect([a.headers.get('x-created'), b.headers.get('x-created')].sort()).toEqual([
      'false',
      'true',
    ])
    await Promise.all([a.done, b.done])
    expect(data(a)).toEqual(['only'])
    expect(data(b)).toEqual(['only'])
    expect(runs).toBe(1)
  })

  it('C31: a cancel reaches the producer and ends the stream for every reader, even if the producer ignores it', async () => {
    let aborted: unknown
    const app = await memoryApp(async (out, signal) => {
      signal.addEventListener('abort', () => {
        aborted = signal.reason
      })
      for (let i = 0; ; i++) {
        await sleep(5)
        await out.send('token', `t${i}`).catch(() => {})
        if (i > 2000) return
      }
    })
    const post = await request(`${app.base}/chat`, { method: 'POST', user: 'ann' })
    const location = post.headers.get('sse-resume')!
    await post.reader.until('3 tokens', () => data(post).length >= 3)
    const cancel = await fetch(`${app.base}${location}`, {
      method: 'DELETE',
      headers: { 'x-user': 'ann' },
    })
    expect(cancel.status).toBe(204)
    await post.done
    expect(last(post)).toMatchObject({ event: 'error', data: '{"reason":"cancelled"}' })
    expect(aborted).toBeInstanceOf(DurableStopped)
    const count = data(post).length
    await sleep(50)
    const replay = await request(`${app.base}${location}`, { user: 'ann' })
    await replay.done
    expect(data(replay)).toHaveLength(count)
  })

  it('rejects bad options with a TypeError that names them, and the terminal names as parts', async () => {
    const hub = createHub<ChatEvents>()
    expect(() => createDurableStreams(hub, {} as never)).toThrow(/"location"/)
    expect(() => createDurableStreams(hub, { location: String, ttl: -1 })).toThrow(/"ttl"/)
    const chats = createDurableStreams(hub, { location: String })
    await expect(chats.start({} as never)).rejects.toThrow(/"produce"/)
    await expect(chats.start({ produce: () => {}, owner: 1 as never })).rejects.toThrow(/"owner"/)
    let thrown: unknown
    await chats.start({
      produce: async (out) => {
        thrown = await (out.send as (e: string, d: string) => Promise<void>)('done', 'x').catch(
          (e) => e,
        )
      },
    })
    await waitFor('the producer to run', () => thrown !== undefined)
    expect(thrown).toBeInstanceOf(TypeError)
  })
})
