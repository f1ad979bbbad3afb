import { createDurableStreams, createHub, type DurableStartOptions, RESUME_HEADER } from '@sse/core'
import { expect } from 'vitest'
import { expectedTokens as expected, tokens } from '../durable-app'
import type { StreamClient } from '../stream-client'
import type { ServerUnderTest } from '../target'
import { sleep, waitFor } from '../wait'
import { type CaseContext, type ConformanceCase, header } from './harness'

type Produce = DurableStartOptions['produce']

/** Serves durable streams that run `produce`, on the suite's store (MemoryStore or Redis). */
async function durableApp(t: CaseContext, produce: Produce) {
  const errors: unknown[] = []
  const hub = createHub({ store: t.store(), onError: (error) => errors.push(error) })
  const streams = createDurableStreams(hub, { location: (id) => `/durable/${id}` })
  const server = await t.start({ durable: { streams, produce } })
  t.defer(() => hub.shutdown({ grace: 0 }))
  return { server, errors }
}

function call(
  t: CaseContext,
  server: ServerUnderTest,
  path: string,
  init: { method?: string; user?: string; lastEventId?: string; key?: string } = {},
): Promise<StreamClient> {
  const headers: Record<string, string> = {}
  if (init.user) headers['x-user'] = init.user
  if (init.lastEventId) headers['last-event-id'] = init.lastEventId
  if (init.key) headers['idempotency-key'] = init.key
  return t.stream(server, { path, method: init.method ?? 'GET', headers })
}

/** Starts a stream as `user`; returns its response and the location to resume it at. */
async function start(t: CaseContext, server: ServerUnderTest, user = 'ann', key?: string) {
  const post = await call(t, server, '/durable', { method: 'POST', user, key })
  expect(post.status).toBe(200)
  const location = header(post, RESUME_HEADER.toLowerCase())
  expect(location).toMatch(/^\/durable\/[A-Za-z0-9_-]{22}$/)
  return { post, location: location! }
}

const parts = (client: StreamClient) =>
  client
    .events()
    .filter((event) => event.event === 'token')
    .map((event) => event.data)
const last = (client: StreamClient) => client.events().at(-1)

/** A producer of 20 tokens that holds after the fifth until `go()`: the cut lands mid-answer. */
function heldAfterFive(): { produce: Produce; go: () => void } {
  let go!: () => void
  const held = new Promise<void>((resolve) => {
    go = resolve
  })
  const produce: Produce = async (out) => {
    for (let i = 0; i < 20; i++) {
      if (i === 5) await held
      await sleep(3)
      await out.send('token', `t${i}`)
    }
    return { tokens: 20 }
  }
  return { produce, go }
}

/** C29-C31: durable streams started by POST, resumed by GET, cancelled by DELETE. */
export const durableCases: ConformanceCase[] = [
  {
    name: 'C29 a POST answer cut mid-way resumes by GET with Last-Event-ID at SSE-Resume: every part once, then done, then 204',
    async run(t) {
      const answer = heldAfterFive()
      const { server, errors } = await durableApp(t, answer.produce)
      const { post, location } = await start(t, server)
      await waitFor('5 parts', () => parts(post).length === 5)
      post.close()
      answer.go()
      const seen = parts(post)
      const resumed = await call(t, server, location, {
        user: 'ann',
        lastEventId: post.events().at(-1)!.id!,
      })
      expect(resumed.status).toBe(200)
      expect(header(resumed, RESUME_HEADER.toLowerCase())).toBe(location)
      await resumed.waitForClose()
      expect([...seen, ...parts(resumed)]).toEqual(expected(20))
      expect(last(resumed)).toMatchObject({ event: 'done', data: '{"tokens":20}' })
      const after = await call(t, server, location, {
        user: 'ann',
        lastEventId: last(resumed)!.id!,
      })
      expect(after.status).toBe(204)
      expect(errors).toEqual([])
    },
  },
  {
    name: 'C29 a finished stream replays in full to a GET without Last-Event-ID, then done',
    async run(t) {
      const { server } = await durableApp(t, tokens(5, 1))
      const { post, location } = await start(t, server)
      await post.waitForClose()
      expect(last(post)?.event).toBe('done')
      const full = await call(t, server, location, { user: 'ann' })
      expect(full.status).toBe(200)
      await full.waitForClose()
      expect(parts(full)).toEqual(expected(5))
      expect(full.events().map((event) => event.id)).toEqual(post.events().map((e) => e.id))
      expect(last(full)).toMatchObject({ event: 'done', data: '{"tokens":5}' })
    },
  },
  {
    name: 'C30 a producer that throws ends its stream with a stored error; no reader hangs',
    async run(t) {
      const { server, errors } = await durableApp(t, async (out) => {
        await out.send('token', 't0')
        throw new Error('model failed')
      })
      const { post, location } = await start(t, server)
      await post.waitForClose()
      expect(parts(post)).toEqual(['t0'])
      expect(last(post)).toMatchObject({ event: 'error', data: '{"reason":"failed"}' })
      expect(errors).toMatchObject([{ message: 'model failed' }])
      const again = await call(t, server, location, { user: 'ann' })
      await again.waitForClose()
      expect(parts(again)).toEqual(['t0'])
      expect(last(again)?.event).toBe('error')
    },
  },
  {
    name: 'C31 one idempotency key runs the generation once',
    async run(t) {
      let runs = 0
      const { server } = await durableApp(t, async (out) => {
        runs++
        await sleep(30)
        await out.send('token', 'only')
      })
      const [a, b] = await Promise.all([
        start(t, server, 'ann', 'k1'),
        start(t, server, 'ann', 'k1'),
      ])
      expect(a.location).toBe(b.location)
      await Promise.all([a.post.waitForClose(), b.post.waitForClose()])
      expect(parts(a.post)).toEqual(['only'])
      expect(parts(b.post)).toEqual(['only'])
      expect(last(b.post)?.event).toBe('done')
      expect(runs).toBe(1)
    },
  },
  {
    name: 'C31 a cancel reaches the producer and ends the stream with error cancelled',
    async run(t) {
      let aborted = false
      const { server } = await durableApp(t, async (out, signal) => {
        signal.addEventListener('abort', () => {
          aborted = true
        })
        for (let i = 0; !signal.aborted && i < 2000; i++) {
          await sleep(3)
          await out.send('token', `t${i}`).catch(() => {})
        }
      })
      const { post, location } = await start(t, server)
      await waitFor('3 parts', () => parts(post).length >= 3)
      const cancel = await call(t, server, location, { method: 'DELETE', user: 'ann' })
      expect(cancel.status).toBe(204)
      await post.waitForClose()
      expect(last(post)).toMatchObject({ event: 'error', data: '{"reason":"cancelled"}' })
      expect(aborted).toBe(true)
      const replay = await call(t, server, location, { user: 'ann' })
      await replay.waitForClose()
      expect(parts(replay)).toEqual(parts(post))
    },
  },
  {
    name: "C29 another owner's resume or cancel gets 404 and none of the answer",
    async run(t) {
      const { server } = await durableApp(t, tokens(3, 1))
      const { post, location } = await start(t, server)
      await post.waitForClose()
      for (const user of ['bob', undefined]) {
        const other = await call(t, server, location, { user })
        await other.waitForClose()
        expect(other.status).toBe(404)
        expect(other.text()).not.toContain('t0')
        const cancel = await call(t, server, location, { method: 'DELETE', user })
        expect(cancel.status).toBe(404)
      }
      const unknown = await call(t, server, '/durable/AAAAAAAAAAAAAAAAAAAAAA', { user: 'ann' })
      expect(unknown.status).toBe(404)
      // The owner still has all of it, done included: nobody else's cancel reached it.
      const mine = await call(t, server, location, { user: 'ann' })
      await mine.waitForClose()
      expect(parts(mine)).toEqual(expected(3))
      expect(last(mine)?.event).toBe('done')
    },
  },
]
