import {
  tokenData as data,
  deferred,
  expectedTokens,
  lastEvent as last,
  fetchStream as request,
  sleep,
  tokens,
  waitFor,
  within,
} from '@sse/test-utils'
import { describe, expect, it } from 'vitest'
import type { DurableBackend } from '../src/durable-store'
import { LEASE, memoryApp } from './memory-chat'

// The fault paths of durable streams that the main suite does not reach: a reader leaving in the
// middle of its replay, a shutdown while a reader's stream is being looked up, a cancel while the
// producer retries a failing store.

describe('durable streams: fault paths', () => {
  it('a reader that leaves in the middle of a long replay costs nothing: no error, no stream left, the next reader gets it all', async () => {
    // 4,000 tokens of 1 KB: a replay of about 4 MB, far more than a socket takes at once.
    const pad = 'x'.repeat(1024)
    const count = 4000
    let stored = false
    // A lease that a loaded machine cannot miss: this case is not about lost producers.
    const app = await memoryApp(
      async (out) => {
        for (let i = 0; i < count; i++) {
          await out.send('token', `${i}:${pad}`)
          // Back to the event loop now and then, as a model's stream is, so the lease is renewed.
          if (i % 100 === 99) await sleep(0)
        }
        stored = true
        return { tokens: count }
      },
      { lease: 5_000 },
    )
    const post = await request(`${app.base}/chat`, { method: 'POST', user: 'ann' })
    const location = post.headers.get('sse-resume')!
    post.abort()
    await waitFor('the answer to be stored', () => stored)

    const leaving = await request(`${app.base}${location}`, { user: 'ann' })
    await leaving.reader.until('the first tokens', () => data(leaving).length >= 10)
    leaving.abort()
    await waitFor('the hub to let the reader go', () => app.hub.size === 0)
    expect(data(leaving).length).toBeLessThan(count)

    const next = await request(`${app.base}${location}`, { user: 'ann' })
    await within('the whole replay', 10_000, next.done)
    expect(data(next).map((token) => Number(token.split(':')[0]))).toEqual([...Array(count).keys()])
    expect(last(next)?.event).toBe('done')
    expect(app.errors).toEqual([])
  })

  it('a shutdown while a reader is looked up ends that reader too, so the server can close', async () => {
    // An answer that runs on: a reader that joined it after the shutdown would stay open.
    const app = await memoryApp(tokens(1000, 5))
    const post = await request(`${app.base}/chat`, { method: 'POST', user: 'ann' })
    const location = post.headers.get('sse-resume')!
    await post.reader.until('a token', () => data(post).length >= 1)
    // The lookup of the reader's stream waits until the shutdown has run.
    const backend: DurableBackend = app.store.durable
    const lookup = backend.state.bind(backend)
    const shutdownDone = deferred()
    let looking = false
    backend.state = async (id) => {
      looking = true
      await shutdownDone.promise
      return lookup(id)
    }
    const reading = request(`${app.base}${location}`, { user: 'ann' })
    await waitFor('the lookup to start', () => looking)
    await app.hub.shutdown()
    shutdownDone.resolve()
    const reader = await reading
    await within('the reader to be sent away', 2_000, reader.done)
    // Sent away as a shutdown sends every stream: a 200 with a retry, so it comes back later.
    expect(reader.status).toBe(200)
    expect(reader.reader.retries).toHaveLength(1)
    expect(data(reader)).toEqual([])
    expect(app.hub.size).toBe(0)
    // Nothing keeps the server open: close() completes.
    await within('the server to close', 2_000, app.close())
    await app.chats.cancel(location.slice('/chat/'.length), { owner: 'ann' })
    expect(app.errors).toEqual([])
  })

  it('a cancel while the producer retries a failing store ends the answer at once; nothing is stored after it', async () => {
    let stopped: unknown
    const app = await memoryApp(async (out, signal) => {
      signal.addEventListener('abort', () => {
        stopped = signal.reason
      })
      for (let i = 0; i < 1000; i++) {
        await sleep(2)
        await out.send('token', `t${i}`)
      }
    })
    const append = app.store.durable.append.bind(app.store.durable)
    let down = false
    let failed = 0
    app.store.durable.append = (...args) => {
      if (!down) return append(...args)
      failed++
      throw new Error('store unreachable')
    }
    const post = await request(`${app.base}/chat`, { method: 'POST', user: 'ann' })
    const location = post.headers.get('sse-resume')!
    await post.reader.until('3 tokens', () => data(post).length >= 3)
    down = true
    await waitFor('the producer to retry', () => failed >= 2)
    const cancel = await fetch(`${app.base}${location}`, {
      method: 'DELETE',
      headers: { 'x-user': 'ann' },
    })
    expect(cancel.status).toBe(204)
    await within('the reader to hear of the cancel', LEASE, post.done)
    expect(last(post)).toMatchObject({ event: 'error', data: '{"reason":"cancelled"}' })
    await waitFor('the producer to be stopped', () => stopped !== undefined)
    const seen = data(post)
    expect(seen).toEqual(expectedTokens(seen.length))
    // The store comes back: the retry that was under way must not add a token after the end.
    down = false
    await sleep(LEASE)
    const replay = await request(`${app.base}${location}`, { user: 'ann' })
    await replay.done
    expect(data(replay)).toEqual(seen)
    expect(last(replay)).toMatchObject({ event: 'error', data: '{"reason":"cancelled"}' })
    expect(app.errors).toEqual([])
  })
})
