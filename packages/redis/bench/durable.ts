/**
 * Durable streams on RedisStore (one Redis, then a 3-master Cluster, started here on loopback),
 * two instances A and B (two hubs, two stores, two node:http servers) in this process:
 * - token latency: 2,000 tokens, one per ms, from the producer's `out.send` to the reader of
 *   the POST on A and of a GET on B, against the same tokens written straight to a response
 *   (`res.write`), p50 and p99;
 * - cancel: 200 cancels sent on B (DELETE) until the producer's signal aborts on A, p50 / p99;
 * - resume: 1,000 durable streams of 500 tokens run at once on A; each reader leaves after 100
 *   tokens and resumes on B with Last-Event-ID (one at a time) while they all run: time
 *   from the GET to the first replayed token, p50 / p99 (see `resumes`).
 *
 *   pnpm --filter @sse/redis bench   (run `pnpm build` first: @sse/core comes from its dist)
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import { type ChatApp, chatApp, type Produce } from '../../test-utils/src/durable-app'
import { RedisStore, type RedisStoreOptions } from '../src/index'
import { type RedisCluster, startRedisCluster } from '../test/redis-cluster'
import { type RedisServer, startRedis } from '../test/redis-server'

const TOKENS = 2_000
const CANCELS = 200
const STREAMS = 1_000
const STREAM_TOKENS = 500
const LEFT_AFTER = 100
// Resumes one at a time: the figure is one resume's latency, not a queue of simultaneous ones.
const WAVE = 1

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[
    Math.min(values.length - 1, Math.floor((p / 100) * values.length))
  ]!
const us = (ms: number) => `${Math.round(ms * 1000).toLocaleString('en-US')} µs`
const ms = (value: number) => `${value.toFixed(1)} ms`
const spread = (values: number[], unit: (v: number) => string) =>
  `${unit(percentile(values, 50))} / ${unit(percentile(values, 99))}`

interface Event {
  event: string | undefined
  data: string
  id: string | undefined
  at: number
}

/** Reads an SSE response, calling `onEvent` with each event and its arrival time until it returns true. */
async function read(
  url: string,
  init: { method?: string; lastEventId?: string },
  onEvent: (event: Event) => boolean | undefined,
  onHeaders: (headers: Headers) => void = () => {},
): Promise<void> {
  const controller = new AbortController()
  const headers: Record<string, string> = { 'x-user': 'ann' }
  if (init.lastEventId) headers['last-event-id'] = init.lastEventId
  const res = await fetch(url, { method: init.method, headers, signal: controller.signal })
  onHeaders(res.headers)
  const decoder = new TextDecoder()
  let buffer = ''
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      const at = performance.now()
      buffer += decoder.decode(chunk, { stream: true })
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const event: Event = { event: undefined, data: '', id: undefined, at }
        for (const line of buffer.slice(0, end).split('\n')) {
          if (line.startsWith('event: ')) event.event = line.slice(7)
          else if (line.startsWith('data: ')) event.data = line.slice(6)
          else if (line.startsWith('id: ')) event.id = line.slice(4)
        }
        buffer = buffer.slice(end + 2)
        if (onEvent(event)) return controller.abort()
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error
  }
}

/** Tokens whose data is the time they were handed to `send`. */
const timed: Produce = async (out) => {
  for (let i = 0; i < TOKENS; i++) {
    await sleep(1)
    await out.send('token', String(performance.now()))
  }
}

/** Collects each token's latency (those sent after `from`), until `done`. */
const latencies =
  (into: number[], from = () => 0) =>
  (event: Event) => {
    if (event.event === 'token' && Number(event.data) >= from()) {
      into.push(event.at - Number(event.data))
    }
    return event.event === 'done'
  }

/** The same tokens written straight to a response. */
async function direct(): Promise<number[]> {
  const server = createServer(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    for (let i = 0; i < TOKENS; i++) {
      await sleep(1)
      res.write(`event: token\ndata: ${performance.now()}\n\n`)
    }
    res.end('event: done\ndata: null\n\n')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const times: number[] = []
  await read(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {}, latencies(times))
  server.close()
  return times
}

/** The POST's reader on A, and a reader on B that joins after the start (its live tokens only). */
async function tokenLatency(a: ChatApp, b: ChatApp): Promise<[number[], number[]]> {
  const onA: number[] = []
  const onB: number[] = []
  let location = (_: string) => {}
  const located = new Promise<string>((resolve) => {
    location = resolve
  })
  const post = read(`${a.base}/chat`, { method: 'POST' }, latencies(onA), (headers) =>
    location(headers.get('sse-resume')!),
  )
  let joined = Number.POSITIVE_INFINITY
  const get = read(
    `${b.base}${await located}`,
    {},
    latencies(onB, () => joined),
    () => {
      joined = performance.now()
    },
  )
  await Promise.all([post, get])
  return [onA, onB]
}

/** Starts a stream on A, then cancels it on B: until the producer's signal aborts on A. */
async function cancels(a: ChatApp, b: ChatApp, aborted: () => Promise<number>): Promise<number[]> {
  const times: number[] = []
  for (let i = 0; i < CANCELS; i++) {
    let location = ''
    await read(
      `${a.base}/chat`,
      { method: 'POST' },
      (e) => e.event === 'token',
      (headers) => {
        location = headers.get('sse-resume')!
      },
    )
    const abort = aborted()
    const sent = performance.now()
    await fetch(`${b.base}${location}`, { method: 'DELETE', headers: { 'x-user': 'ann' } })
    times.push((await abort) - sent)
  }
  return times
}

/**
 * 1,000 streams run at once on A: each writes 499 tokens as fast as Redis takes them and holds
 * its last one until every reader is measured (so all are running, leases renewed). Each reader
 * leaves the POST after 100 tokens and resumes on B with Last-Event-ID, one resume at a time:
 * from the GET to its first replayed token (399 to replay).
 */
async function resumes(a: ChatApp, b: ChatApp, written: Promise<void>): Promise<number[]> {
  const left = await Promise.all(
    Array.from({ length: STREAMS }, async () => {
      let location = ''
      let seen = 0
      let id: string | undefined
      await read(
        `${a.base}/chat`,
        { method: 'POST' },
        (e) => {
          if (e.event === 'token') id = e.id
          return e.event === 'token' && ++seen === LEFT_AFTER
        },
        (headers) => {
          location = headers.get('sse-resume')!
        },
      )
      return { location, id }
    }),
  )
  await written
  const times: number[] = []
  for (let i = 0; i < left.length; i += WAVE) {
    await Promise.all(
      left.slice(i, i + WAVE).map(async ({ location, id }) => {
        const sent = performance.now()
        await read(`${b.base}${location}`, { lastEventId: id }, (e) => {
          if (e.event !== 'token') return false
          times.push(e.at - sent)
          return true
        })
      }),
    )
  }
  return times
}

/** `promise` resolves once `one()` was called `n` times. */
function countdown(n: number) {
  let resolve = () => {}
  const promise = new Promise<void>((r) => {
    resolve = r
  })
  return { promise, one: () => --n === 0 && resolve() }
}

async function measure(kind: string, redis: () => RedisStoreOptions['redis']): Promise<string[]> {
  const prefix = `bench:durable:${Date.now()}:`
  const stores = [0, 1].map(() => new RedisStore({ redis: redis(), prefix }))
  await Promise.all(stores.map((store) => store.ready()))
  const apps: ChatApp[] = []
  const pair = async (produce: Produce) => {
    const [a, b] = await Promise.all(stores.map((s) => chatApp(s, produce, { lease: 5000 })))
    apps.push(a!, b!)
    return [a!, b!] as const
  }
  try {
    const [onA, onB] = await tokenLatency(...(await pair(timed)))
    let abortedAt = (_: number) => {}
    const cancelled = await pair(async (out, signal) => {
      signal.addEventListener('abort', () => abortedAt(performance.now()))
      while (!signal.aborted) {
        await out.send('token', 'x').catch(() => {})
        await sleep(5)
      }
    })
    const cancel = await cancels(...cancelled, () => new Promise((r) => (abortedAt = r)))
    const written = countdown(STREAMS)
    let release = () => {}
    const released = new Promise<void>((r) => {
      release = r
    })
    const resume = await resumes(
      ...(await pair(async (out) => {
        for (let i = 0; i < STREAM_TOKENS - 1; i++) await out.send('token', `t${i}`)
        written.one()
        await released
        await out.send('token', `t${STREAM_TOKENS - 1}`)
      })),
      written.promise,
    )
    release()
    return [kind, spread(onA, us), spread(onB, us), spread(cancel, ms), spread(resume, ms)]
  } finally {
    await Promise.all(apps.map((app) => app.close()))
    await Promise.all(stores.map((store) => store.close()))
  }
}

let redis: RedisServer | undefined
let cluster: RedisCluster | undefined
const rows: string[][] = []
try {
  rows.push(['res.write, no store', spread(await direct(), us), '', '', ''])
  redis = await startRedis()
  rows.push(await measure('Redis', () => redis!.url))
  cluster = await startRedisCluster(3)
  const client = () => cluster!.client({ enableOfflineQueue: false })
  rows.push(await measure('Redis Cluster (3 masters)', client))
} finally {
  await redis?.stop()
  await cluster?.stop()
}
const header = [
  'store',
  'token, reader on A p50 / p99',
  'token, reader on B p50 / p99',
  'cancel on B to abort on A p50 / p99',
  'resume to first token, 1,000 streams p50 / p99',
]
console.log(`| ${header.join(' | ')} |`)
console.log(`| ${header.map(() => '---').join(' | ')} |`)
for (const row of rows) console.log(`| ${row.join(' | ')} |`)
process.exit(0)
