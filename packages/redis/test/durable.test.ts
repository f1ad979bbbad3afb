import { DurableStopped } from '@sse/core'
import {
  type ChatApp,
  chatApp,
  expectedTokens as expected,
  lastEvent as last,
  type Produce,
  tokenData as parts,
  fetchStream as request,
  sleep,
  tokens,
} from '@sse/test-utils'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import type { RedisStore, RedisStoreOptions } from '../src/index'
import { describeRedis } from './describe-redis'
import { clusterTarget, singleTarget, type Target } from './durable-targets'
import { type Instance, startInstance } from './instances'

const LEASE = 300
const ID = 'AAAAAAAAAAAAAAAAAAAAAA'

function durableSuite(name: string, target: Target): void {
  describeRedis(`durable streams on RedisStore, ${name}`, () => {
    let prefixes = 0
    let errors: unknown[] = []
    const stores: RedisStore[] = []
    const apps: ChatApp[] = []
    const children: Instance[] = []

    beforeAll(() => target.start(), 60_000)
    afterAll(() => target.stop())
    afterEach(async () => {
      for (const child of children.splice(0)) await child.kill()
      await Promise.all(apps.splice(0).map((app) => app.close()))
      await Promise.all(stores.splice(0).map((store) => store.close()))
      expect(errors).toEqual([])
      errors = []
    })

    /** Two stores of two instances on one prefix: what A writes, B reads. */
    function pair(options: RedisStoreOptions = {}): [RedisStore, RedisStore] {
      const prefix = `dur:${process.pid}:${++prefixes}:`
      const make = () =>
        target.store({ prefix, onError: (error) => errors.push(error), ...options })
      const made: [RedisStore, RedisStore] = [make(), make()]
      stores.push(...made)
      return made
    }

    /** Instances A and B: two hubs, two stores, two node:http servers. */
    async function instances(
      produce: Produce,
      options: { ttl?: number; store?: RedisStoreOptions } = {},
    ) {
      const [storeA, storeB] = pair(options.store)
      const settings = { lease: LEASE, ttl: options.ttl }
      const a = await chatApp(storeA, produce, settings)
      const b = await chatApp(storeB, produce, settings)
      apps.push(a, b)
      return { a, b, storeA, storeB }
    }

    it('C29: a stream started on A resumes on B with Last-Event-ID mid-answer: every part once, then done; then 204, and a full replay on B', async () => {
      const { a, b } = await instances(tokens(40, 5))
      const post = await request(`${a.base}/chat`, { method: 'POST', user: 'ann' })
      const location = post.headers.get('sse-resume')!
      await post.reader.until('10 parts', () => parts(post).length >= 10)
      post.abort()
      const seen = parts(post)
      const resumed = await request(`${b.base}${location}`, {
        user: 'ann',
        lastEventId: post.reader.events.at(-1)!.id,
      })
      expect(resumed.status).toBe(200)
      await resumed.done
      expect([...seen, ...parts(resumed)]).toEqual(expected(40))
      expect(last(resumed)).toMatchObject({ event: 'done', data: '{"tokens":40}' })
      const after = await request(`${b.base}${location}`, {
        user: 'ann',
        lastEventId: last(resumed)!.id,
      })
      expect(after.status).toBe(204)
      const full = await request(`${b.base}${location}`, { user: 'ann' })
      await full.done
      expect(parts(full)).toEqual(expected(40))
      expect(last(full)?.event).toBe('done')
      expect(a.runs() + b.runs()).toBe(1)
      expect([...a.errors, ...b.errors]).toEqual([])
    })

    it('C29: a finished stream replays in full on B until its TTL, then 404; retention (maxLen, maxBytes) never trims it', async () => {
      const ttl = 800
      const { a, b, storeB } = await instances(tokens(30, 1), {
        ttl,
        store: { maxLen: 3, maxBytes: 20, approximate: false },
      })
      const post = await request(`${a.base}/chat`, { method: 'POST', user: 'ann' })
      await post.done
      const location = post.headers.get('sse-resume')!
      const replay = await request(`${b.base}${location}`, { user: 'ann' })
      await replay.done
      expect(parts(replay)).toEqual(expected(30))
      expect(last(replay)?.event).toBe('done')
      const stream = storeB.streamKey(`d${location.slice('/chat/'.length)}`)
      const pttl = await storeB.client.pttl(stream)
      expect(pttl).toBeGreaterThan(0)
      expect(pttl).toBeLessThanOrEqual(ttl)
      await sleep(ttl + 100)
      expect((await request(`${b.base}${location}`, { user: 'ann' })).status).toBe(404)
      expect(await storeB.client.exists(stream, `${stream}:r`, `${stream}:m`)).toBe(0)
    })

    it('C31: starts with one idempotency key on A and on B at once run the generation once', async () => {
      const { a, b } = await instances(tokens(5, 20))
      const [onA, onB] = await Promise.all([
        request(`${a.base}/chat`, { method: 'POST', user: 'ann', key: 'k1' }),
        request(`${b.base}/chat`, { method: 'POST', user: 'ann', key: 'k1' }),
      ])
      expect(onA.headers.get('sse-resume')).toBe(onB.headers.get('sse-resume'))
      expect([onA.headers.get('x-created'), onB.headers.get('x-created')].sort()).toEqual([
        'false',
        'true',
      ])
      await Promise.all([onA.done, onB.done])
      expect(parts(onA)).toEqual(expected(5))
      expect(parts(onB)).toEqual(expected(5))
      expect(a.runs() + b.runs()).toBe(1)
    })

    it('C31: a cancel sent on B reaches the producer on A; every reader gets error cancelled', async () => {
      let aborted: unknown
      const { a, b } = await instances(async (out, signal) => {
        signal.addEventListener('abort', () => {
          aborted = signal.reason
        })
        for (let i = 0; i < 2000 && !signal.aborted; i++) {
          await sleep(5)
          await out.send('token', `t${i}`).catch(() => {})
        }
      })
      const post = await request(`${a.base}/chat`, { method: 'POST', user: 'ann' })
      const location = post.headers.get('sse-resume')!
      const onB = await request(`${b.base}${location}`, { user: 'ann' })
      await onB.reader.until('3 parts on B', () => parts(onB).length >= 3)
      const cancel = await fetch(`${b.base}${location}`, {
        method: 'DELETE',
        headers: { 'x-user': 'ann' },
      })
      expect(cancel.status).toBe(204)
      await Promise.all([post.done, onB.done])
      for (const reply of [post, onB]) {
        expect(last(reply)).toMatchObject({ event: 'error', data: '{"reason":"cancelled"}' })
      }
      expect(aborted).toBeInstanceOf(DurableStopped)
      expect((aborted as DurableStopped).reason).toBe('cancelled')
      expect(parts(onB)).toEqual(expected(parts(onB).length))
    })

    it("C30: the producer's process killed with SIGKILL: the reader on B gets error producer-lost within two leases", async () => {
      const [, storeB] = pair()
      const b = await chatApp(storeB, tokens(0), { lease: LEASE })
      apps.push(b)
      const { url, env } = target.env()
      const prefix = (storeB as unknown as { prefix: string }).prefix
      const child = await startInstance(url, prefix, {
        fixture: 'durable-instance.ts',
        env: { ...env, LEASE: String(LEASE) },
      })
      children.push(child)
      const post = await request(`${child.url}/chat`, { method: 'POST', user: 'ann' })
      const location = post.headers.get('sse-resume')!
      await post.reader.until('5 parts from A', () => parts(post).length >= 5)
      post.abort()
      const seen = parts(post)
      const onB = await request(`${b.base}${location}`, {
        user: 'ann',
        lastEventId: post.reader.events.at(-1)!.id,
      })
      await onB.reader.until('5 parts on B', () => parts(onB).length >= 5)
      const killed = Date.now()
      await child.kill()
      await onB.done
      const took = Date.now() - killed
      expect(last(onB)).toMatchObject({ event: 'error', data: '{"reason":"producer-lost"}' })
      expect(took).toBeLessThan(2 * LEASE + 200)
      const all = [...seen, ...parts(onB)]
      expect(all).toEqual(expected(all.length))
      expect(b.errors).toEqual([])
    })

    it('C30: a producer that lost its lease cannot append or end; an orphaned stream is ended once, by anyone', async () => {
      const [storeA, storeB] = pair()
      const [producer, reader] = [storeA.durable, storeB.durable]
      const log = `d${ID}`
      const init = { id: ID, token: 'old', owner: 'ann', idempotencyKey: undefined }
      await producer.create({ ...init, ttl: 60_000, lease: LEASE })
      expect(await producer.append(ID, 'old', [{ log, data: 'kept' }], 0)).toHaveLength(1)
      expect(await producer.append(ID, 'other', [{ log, data: 'forged' }], 1)).toBeUndefined()
      expect(await reader.state(ID)).toEqual({ owner: 'ann', ended: false, orphaned: false })
      await sleep(LEASE + 50)
      expect(await reader.state(ID)).toEqual({ owner: 'ann', ended: false, orphaned: true })
      expect(await producer.append(ID, 'old', [{ log, data: 'late' }], 1)).toBeUndefined()
      expect(await producer.renew(ID, 'old', LEASE)).toBe(false)
      expect(await producer.end(ID, 'old', { log, event: 'done', data: 'null' })).toBeUndefined()
      const lost = { log, event: 'error', data: '{"reason":"producer-lost"}' }
      const ends = await Promise.all([
        reader.end(ID, undefined, lost),
        producer.end(ID, undefined, lost),
      ])
      expect(ends.filter(Boolean)).toHaveLength(1)
      expect(await reader.state(ID)).toEqual({ owner: 'ann', ended: true, orphaned: false })
      const read = await storeB.read(log, undefined)
      expect(read.events.map((e) => e.data)).toEqual(['kept', lost.data])
      await expect(storeA.append([{ log, data: 'around the lease' }])).rejects.toThrow(/durable/)
    })

    it("another owner's resume or cancel on B gets 404", async () => {
      const { a, b } = await instances(tokens(3, 1))
      const post = await request(`${a.base}/chat`, { method: 'POST', user: 'ann' })
      await post.done
      const location = post.headers.get('sse-resume')!
      for (const user of ['bob', undefined]) {
        const other = await request(`${b.base}${location}`, { user })
        await other.done
        expect(other.status).toBe(404)
        expect(other.reader.text()).not.toContain('t0')
        const headers: Record<string, string> = user ? { 'x-user': user } : {}
        const init = { method: 'DELETE', headers }
        expect((await fetch(`${b.base}${location}`, init)).status).toBe(404)
      }
    })
  })
}

durableSuite('one Redis', singleTarget())
durableSuite('a 3-master Redis Cluster', clusterTarget())
