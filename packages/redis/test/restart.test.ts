import { createServer } from 'node:http'
import { createHub, type Hub, type SseStream } from '@sse/core'
import { openNodeStream } from '@sse/core/node'
import { listen, openStream, sleep, waitFor } from '@sse/test-utils'
import { afterEach, expect, it } from 'vitest'
import { RedisStore, RedisStoreError } from '../src/index'
import { describeRedis } from './describe-redis'
import { type RedisServer, startRedis } from './redis-server'

/** Publishes `data` as soon as the store takes writes again (it fails fast until reconnected). */
async function publishOnceBack(hub: Hub, data: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (
    !(await hub.publish({ data }).then(
      () => true,
      () => false,
    ))
  ) {
    if (Date.now() > deadline) throw new Error('publishing did not recover after the restart')
  }
}

describeRedis('Redis restarted while publishers and subscribers run', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  /** A hub on RedisStore behind node:http, and a raw client that must stay on one connection. */
  async function app(redis: RedisServer) {
    const reports: unknown[] = []
    const store = new RedisStore({
      redis: redis.url,
      offlineTimeout: 200,
      onError: (error) => reports.push(error),
    })
    const hub = createHub({ store, heartbeat: false })
    const sessions: SseStream[] = []
    const server = await listen(
      createServer(
        (req, res) => void openNodeStream(req, res, { hub }).then((s) => sessions.push(s)),
      ),
    )
    cleanups.push(async () => {
      await hub.shutdown({ grace: 100 })
      await server.close()
      await store.close()
    })
    // offlineTimeout is short for the outages below; on a busy machine the first connection to a
    // fresh redis-server can take longer than that.
    for (let tries = 1; ; tries++) {
      const ready = await store.ready().then(
        () => true,
        (error) => {
          if (tries === 50) throw error
          return false
        },
      )
      if (ready) break
    }
    return { store, hub, server, reports, sessions }
  }

  it('crash and restart (AOF, fsync always): every acknowledged event reaches the subscriber once, on the same connection', async () => {
    const redis = await startRedis({ persistent: true })
    cleanups.push(() => redis.stop())
    const { hub, server, reports } = await app(redis)
    // A second publisher process's role: its own store on the same stream.
    const other = new RedisStore({ redis: redis.url, offlineTimeout: 200, onError: () => {} })
    cleanups.push(() => other.close())
    const client = await openStream(server)
    await sleep(20)

    const acked = new Set<string>()
    const failures: unknown[] = []
    let n = 0
    let stop = false
    const publisher = async (publish: (data: string) => Promise<unknown>) => {
      while (!stop) {
        const data = String(n++)
        await publish(data).then(
          () => acked.add(data),
          (error) => failures.push(error),
        )
        await sleep(2)
      }
    }
    const running = Promise.all([
      publisher((data) => hub.publish({ data })),
      publisher((data) => other.append([{ log: '*', data }])),
    ])
    await waitFor('100 acknowledged events', () => acked.size >= 100, { timeout: 10_000 })
    await redis.kill()
    await waitFor('publishing to fail', () => failures.length >= 4, { timeout: 10_000 })
    await redis.start()
    const before = acked.size
    await waitFor('100 more acknowledged events', () => acked.size >= before + 100, {
      timeout: 15_000,
    })
    stop = true
    await running

    await waitFor(
      `every acknowledged event at the client (${client.events().length}/${acked.size})`,
      () => client.events().length >= acked.size,
      { timeout: 10_000 },
    )
    await sleep(100)
    const events = client.events()
    const received = events.map((e) => e.data)
    expect(new Set(received).size, 'no event twice').toBe(received.length)
    for (const data of acked) expect(received, `acknowledged event ${data}`).toContain(data)
    // Anything else the client got was published while Redis went down: stored, not confirmed.
    expect(events.length - acked.size).toBeLessThanOrEqual(failures.length)
    expect(client.closed, 'the subscriber stayed connected').toBe(false)
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(RedisStoreError)
      expect(String(failure)).toMatch(/unreachable|may not have been stored/)
    }
    // One report for the outage, whichever of the store's two connections noticed it first.
    expect(reports.map(String).filter((r) => /lost the connection/.test(r))).toHaveLength(1)
    for (const report of reports) {
      expect(String(report)).not.toMatch(/went back|trimmed|lost its data/)
    }
    expect(String(reports[0])).toMatch(/lost the connection to Redis/)
    client.close()
  })

  it('restart that lost every event (no persistence): streams resync, old cursors are reported lost, the live feed carries on', async () => {
    const redis = await startRedis()
    cleanups.push(() => redis.stop())
    const { hub, server, reports, sessions } = await app(redis)
    const client = await openStream(server)
    await sleep(20)
    await hub.publish({ data: 'before' })
    await client.waitForEvents(1)
    const old = client.events()[0]!.id!
    await redis.kill()
    await redis.start()
    // The live feed comes back to a new, empty stream: events it had not read may be gone, so
    // the hub ends its streams and their clients resume from the store.
    await client.waitForClose(10_000)
    expect(sessions.map((session) => session.closeReason)).toEqual(['resync'])
    expect(client.events().map((e) => e.data)).toEqual(['before'])
    expect(reports.map(String)).toContainEqual(expect.stringMatching(/Redis lost its data/))
    // Publishing fails fast until the store has reconnected; the first success is 'after'.
    await publishOnceBack(hub, 'after')
    const resumed = await openStream(server, { headers: { 'last-event-id': old } })
    expect(resumed.headers['sse-replay']).toBe('lost')
    const replayed = await resumed.waitForEvents(2)
    expect(replayed.map((e) => e.event ?? 'message')).toEqual(['history-lost', 'message'])
    expect(replayed[1]!.data).toBe('after')
    await hub.publish({ data: 'live' })
    const all = await resumed.waitForEvents(3)
    expect(all.map((e) => e.data).slice(1)).toEqual(['after', 'live'])
    resumed.close()
  })

  it('restored from an older snapshot: streams resync, nothing from before the snapshot is replayed live', async () => {
    const redis = await startRedis()
    cleanups.push(() => redis.stop())
    const { hub, server, reports, sessions, store } = await app(redis)
    const client = await openStream(server)
    await sleep(20)
    for (let i = 0; i < 3; i++) await hub.publish({ data: `saved ${i}` })
    // An RDB snapshot (the epoch is in it), then events it does not have.
    await store.client.save()
    for (let i = 0; i < 3; i++) await hub.publish({ data: `unsaved ${i}` })
    await client.waitForEvents(6)
    const last = client.events()[5]!.id!
    await redis.kill()
    await redis.start()
    // The log is behind what the feed delivered: a gap, and the hub ends the stream.
    await client.waitForClose(10_000)
    expect(sessions.map((session) => session.closeReason)).toEqual(['resync'])
    expect(client.events().map((e) => e.data)).toEqual([
      'saved 0',
      'saved 1',
      'saved 2',
      'unsaved 0',
      'unsaved 1',
      'unsaved 2',
    ])
    expect(reports.map(String)).toContainEqual(expect.stringMatching(/log \* went back/))
    expect(reports.map(String)).not.toContainEqual(expect.stringMatching(/lost its data/))
    await publishOnceBack(hub, 'after')
    // The client's cursor is past the log's head now: lost, and the retained events replayed.
    const resumed = await openStream(server, { headers: { 'last-event-id': last } })
    expect(resumed.headers['sse-replay']).toBe('lost')
    const events = await resumed.waitForEvents(5)
    expect(events.map((e) => e.event ?? e.data)).toEqual([
      'history-lost',
      'saved 0',
      'saved 1',
      'saved 2',
      'after',
    ])
    resumed.close()
  })
})
