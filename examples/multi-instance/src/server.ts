import type { AddressInfo } from 'node:net'
import { hostname } from 'node:os'
import { closeStreams } from '@sse/core'
import { demoRoutes, jsonErrors } from '@sse/example-express/routes'
import * as demo from '@sse/example-shared'
import { RedisFencedError, RedisStore, RedisStoreError } from '@sse/redis'
import express, { type ErrorRequestHandler } from 'express'
import { prometheusMetrics } from './metrics'

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
/** This instance's name in the tick data and the `X-Instance` header; set once listening. */
let instance = process.env.INSTANCE ?? ''

// Ticks: if every instance published them, two instances would send twice as many with two
// unrelated `n` sequences. So only the holder of a lease in Redis ticks. It renews the lease on
// every tick; when it dies, another instance takes the lease over once it expires. `n` is a
// counter in Redis, taken in the same script, so it keeps increasing whichever instance ticks.
// A lease alone does not keep the order: a holder whose reply stalls on the network past the
// lease would publish its `n` after the next holder's. So `n` is also a fencing token, checked
// in the store's append script: a publish whose `n` is below one already stored stores nothing.
const LEASE = `${PREFIX}ticker`
const COUNTER = `${PREFIX}tick-n`
const FENCE = `${PREFIX}tick-fence`
const LEASE_MS = Math.max(3 * demo.settings.tickMs, 2000)
const TICK = `local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return false end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return redis.call('INCR', KEYS[2])`
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end`

const tickUnderLease: demo.Tick = async (hub) => {
  if (!instance) return // not listening yet
  let n: unknown
  try {
    n = await store.client.eval(TICK, 2, LEASE, COUNTER, instance, LEASE_MS)
    if (typeof n !== 'number') return // another instance holds the lease
    const tick = { n, time: new Date().toISOString(), instance }
    await store.fenced({ key: FENCE, token: n }, () => hub.publish('tick', tick))
  } catch (error) {
    if (error instanceof RedisFencedError) {
      console.warn(`tick ${n} fenced out: a newer lease holder published first`)
      return
    }
    // While Redis is down every tick fails; the store reports the outage once.
    if (store.client.status === 'ready') throw error
  }
}

const { hub, chats, stopTicker } = demo.createDemoHub({ store, tick: tickUnderLease })

// The Express example's routes, with the instance's name on every response and a 503 while
// Redis is unreachable.
const app = express()
// Which instance answered, for `curl -i` through a load balancer.
app.use((_req, res, next) => {
  res.setHeader('X-Instance', instance)
  next()
})
// Prometheus scrapes each instance: its streams, events, replays and refusals (see README).
const metrics = prometheusMetrics({ ticks: hub, chat: chats.hub })
app.get('/metrics', metrics.handler)
app.use(demoRoutes(hub, chats))
// A publish (POST /notify) fails with a RedisStoreError while Redis is unreachable.
app.use(((error, _req, res, next) => {
  if (res.headersSent || !(error instanceof RedisStoreError)) return next(error)
  res.status(503).json({ error: error.message })
}) satisfies ErrorRequestHandler)
app.use(jsonErrors)

try {
  await store.ready()
} catch {
  console.error(
    `Cannot reach Redis at ${redisShown}.\n` +
      'Start one (`redis-server`; `apt-get install redis-server` if it is missing) or set ' +
      'REDIS_URL. `pnpm start:cluster` starts Redis and two instances for you.',
  )
  stopTicker()
  await store.close()
  process.exit(1)
}

const server = app.listen(demo.settings.port, demo.settings.host, () => {
  instance ||= `${hostname()}:${(server.address() as AddressInfo).port}`
  demo.logListening(server, `instance ${instance}, Redis ${redisShown}`)
})

// Ctrl+C: hand the ticks over at once, end the open streams (pages reconnect, to another
// instance behind a load balancer, and resume), then close Redis and the server. Under the
// cluster script Ctrl+C arrives twice (the terminal's SIGINT, then the script's SIGTERM):
// demo.onShutdown() runs this once.
demo.onShutdown(async () => {
  stopTicker()
  await store.client.eval(RELEASE, 1, LEASE, instance).catch(() => {})
  await Promise.all([
    hub.shutdown({ grace: demo.shutdownGrace }),
    chats.hub.shutdown({ grace: demo.shutdownGrace }),
    closeStreams({ server, grace: demo.shutdownGrace }),
  ])
  await Promise.all([store.close(), metrics.stop()])
  server.close()
})
