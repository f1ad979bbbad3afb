import type { AddressInfo } from 'node:net'
import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { createHub, type SseMessage } from '@sse/core'
import { sse } from '@sse/express'
import { RedisStore, RedisStoreError } from '@sse/redis'
import express, { type ErrorRequestHandler, type Request, type RequestHandler } from 'express'

type Events = {
  tick: { n: number; time: string; instance: string }
  notification: { text: string; time: string }
}
type ChatEvents = { token: string; done: { tokens: number } }

const port = Number(process.env.PORT ?? 3000)
const host = process.env.HOST ?? '127.0.0.1'
const tickMs = Number(process.env.TICK_MS ?? 1000)
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
/** The URL for logs: without its user and password. */
const redisShown = redisUrl.replace(/\/\/[^/@]*@/, '//')
const PREFIX = 'sse-demo:'

// Every instance uses the same Redis and prefix: one stream, one id space. An event published on
// any instance reaches the pages on all of them, and a page resumes on any instance with the id
// it saw last.
const store = new RedisStore({
  redis: redisUrl,
  prefix: PREFIX,
  // One line per outage and per gap in the live feed, not a stack trace.
  onError: (error) => console.error(`[redis] ${(error as Error).message}`),
})
const hub = createHub<Events>({
  store,
  retry: 1000,
  heartbeat: Number(process.env.HEARTBEAT_MS ?? 15_000),
  maxLifetime: Number(process.env.STREAM_LIFETIME_MS) || false,
})
/** This instance's name in the tick data and the `X-Instance` header; set once listening. */
let instance = process.env.INSTANCE ?? ''

// Ticks: if every instance published them, two instances would send twice as many with two
// unrelated `n` sequences. So only the holder of a lease in Redis ticks. It renews the lease on
// every tick; when it dies, another instance takes the lease over once it expires. `n` is a
// counter in Redis, taken in the same script, so it keeps increasing whichever instance ticks.
const LEASE = `${PREFIX}ticker`
const COUNTER = `${PREFIX}tick-n`
const LEASE_MS = Math.max(3 * tickMs, 2000)
const TICK = `local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return false end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return redis.call('INCR', KEYS[2])`
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end`

async function tick(): Promise<void> {
  const n = await store.client.eval(TICK, 2, LEASE, COUNTER, instance, LEASE_MS)
  if (typeof n !== 'number') return // another instance holds the lease
  await hub.publish('tick', { n, time: new Date().toISOString(), instance })
}

let ticking = false
const ticker = setInterval(() => {
  // One tick at a time, so an instance publishes its ticks in the order of their `n`.
  if (ticking || !instance) return
  ticking = true
  tick()
    .catch((error) => {
      // While Redis is down every tick fails; the store reports the outage once.
      if (store.client.status === 'ready') console.error('tick failed:', error)
    })
    .finally(() => {
      ticking = false
    })
}, tickMs)

/** The notification text of a request body, when it is a string of 1 to 1000 characters. */
function textOf(body: unknown): string | undefined {
  const text = (body as { text?: unknown } | null | undefined)?.text
  return typeof text === 'string' && text.length >= 1 && text.length <= 1000 ? text : undefined
}

/** A pretend language model: its answer one token at a time, then `done`. */
async function* answer(prompt: string): AsyncGenerator<SseMessage<ChatEvents>> {
  const text = `You asked: "${prompt}". A language model streams its answer like this, one token at a time.`
  const tokens = text.split(/(?= )/)
  for (const token of tokens) {
    await sleep(40)
    yield { event: 'token', data: token }
  }
  yield { event: 'done', data: { tokens: tokens.length } }
}

function promptOf(req: Request): string | undefined {
  const prompt = req.method === 'POST' ? req.body?.prompt : req.query.prompt
  return typeof prompt === 'string' && prompt !== '' ? prompt : undefined
}

const app = express()
const json = express.json({ limit: '64kb' })

// Which instance answered, for `curl -i` through a load balancer.
app.use((_req, res, next) => {
  res.setHeader('X-Instance', instance)
  next()
})

app.get('/events', sse({ hub }))

app.post('/notify', json, async (req, res) => {
  const text = textOf(req.body)
  if (text === undefined) {
    res.status(400).json({ error: 'expected JSON {"text": "<1 to 1000 characters>"}' })
    return
  }
  // Rejects with a RedisStoreError while Redis is unreachable: 503 below.
  const id = await hub.publish('notification', { text, time: new Date().toISOString() })
  res.status(202).json({ id })
})

const requirePrompt: RequestHandler = (req, res, next) => {
  if (promptOf(req) === undefined) res.status(400).json({ error: 'a prompt is required' })
  else next()
}
// A stream of its own, outside the hub: it ends once the answer is done.
const streamAnswer = sse<ChatEvents>({}, (req, res) => res.sse.pipe(answer(promptOf(req)!)))
app.get('/chat', requirePrompt, streamAnswer)
app.post('/chat', json, requirePrompt, streamAnswer)

app.use(express.static(fileURLToPath(new URL('../../shared', import.meta.url))))

// express.json() fails with 400 on invalid JSON and 413 on a body over the limit; a publish
// fails with a RedisStoreError while Redis is unreachable.
app.use(((error, _req, res, next) => {
  if (res.headersSent) return next(error)
  if (error instanceof RedisStoreError) {
    res.status(503).json({ error: error.message })
    return
  }
  const status = error.status ?? 500
  res.status(status).json({ error: status < 500 ? error.message : 'internal error' })
}) satisfies ErrorRequestHandler)

try {
  await store.ready()
} catch {
  console.error(
    `Cannot reach Redis at ${redisShown}.\n` +
      'Start one (`redis-server`; `apt-get install redis-server` if it is missing) or set ' +
      'REDIS_URL. `pnpm start:cluster` starts Redis and two instances for you.',
  )
  clearInterval(ticker)
  await store.close()
  process.exit(1)
}

const server = app.listen(port, host, () => {
  const { port } = server.address() as AddressInfo
  instance ||= `${hostname()}:${port}`
  console.log(`listening on http://${host}:${port} (instance ${instance}, Redis ${redisShown})`)
})

// Ctrl+C: hand the ticks over at once, end the open streams (pages reconnect, to another
// instance behind a load balancer, and resume), then close Redis and the server. Under the
// cluster script Ctrl+C arrives twice (the terminal's SIGINT, then the script's SIGTERM).
let closing = false
async function close(): Promise<void> {
  if (closing) return
  closing = true
  clearInterval(ticker)
  await store.client.eval(RELEASE, 1, LEASE, instance).catch(() => {})
  await hub.shutdown({ grace: 1000 })
  await store.close()
  server.close()
}
process.once('SIGINT', close)
process.once('SIGTERM', close)
