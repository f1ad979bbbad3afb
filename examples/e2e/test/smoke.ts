import {
  connectEventSource,
  openStream,
  type ReceivedEvent,
  type StreamClient,
  waitFor,
} from '@sse/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chatCases } from './chat-smoke.ts'
import { type ExampleName, type RunningExample, startExample } from './examples.ts'

const TICK_MS = 250
const HEARTBEAT_MS = 100

type Tick = { id: string; n: number; time: string }

function ticksOf(events: readonly ReceivedEvent[]): Tick[] {
  return events
    .filter((event) => event.event === 'tick')
    .map((event) => ({ id: event.id!, ...JSON.parse(event.data) }))
}

/**
 * The events of a stream after the one with id `cursor`, as (id, event, data). Streams of the
 * same hub that follow the same events and are caught up hold the same ids, so a cursor one
 * stream received is found in another.
 */
function after(stream: StreamClient, cursor: string) {
  const events = stream.events()
  const at = events.findIndex((event) => event.id === cursor)
  return at === -1 ? [] : events.slice(at + 1).map(({ id, event, data }) => ({ id, event, data }))
}

/** The notification with this text on a stream, once it arrived. */
function notificationOf(stream: StreamClient, text: string): ReceivedEvent | undefined {
  return stream
    .events()
    .find((event) => event.event === 'notification' && JSON.parse(event.data).text === text)
}

/** Options of {@link smokeSuite}. */
export interface SmokeOptions {
  /**
   * More environment for each server the suite starts, asked for once per server (the suite
   * starts two, which must not share state: for example a Redis database each).
   */
  env?: () => Record<string, string>
}

/**
 * The HTTP contract every example serves (examples/README.md), over real sockets: the page,
 * `/events` with ticks, heartbeats, notifications and resume, `/notify` and its refusals,
 * the chat's durable answers (chat-smoke.ts), and streams that end after `STREAM_LIFETIME_MS`.
 */
export function smokeSuite(name: ExampleName, options: SmokeOptions = {}): void {
  // Concurrent: the tests wait on timers far more than they work, and each reads its own streams.
  describe.concurrent(`examples/${name}: the demo contract`, () => {
    let app: RunningExample
    let short: RunningExample
    const streams: StreamClient[] = []

    async function open(path = '/events', headers: Record<string, string> = {}) {
      const stream = await openStream({ url: app.url, http2: false }, { path, headers })
      streams.push(stream)
      return stream
    }

    function post(path: string, body: string, type = 'application/json') {
      return fetch(`${app.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': type },
        body,
      })
    }

    beforeAll(async () => {
      ;[app, short] = await Promise.all([
        startExample(name, {
          ...options.env?.(),
          TICK_MS: String(TICK_MS),
          HEARTBEAT_MS: String(HEARTBEAT_MS),
          TOKEN_MS: '5',
        }),
        startExample(name, { ...options.env?.(), TICK_MS: '100', STREAM_LIFETIME_MS: '500' }),
      ])
    }, 90_000)

    afterAll(async () => {
      for (const stream of streams) stream.close()
      await Promise.all([app?.stop(), short?.stop()])
    })

    it('GET / serves the shared demo page, with its scripts (@sse/client bundled) and style', async () => {
      const page = await fetch(`${app.url}/`)
      expect(page.status).toBe(200)
      expect(page.headers.get('content-type')).toMatch(/^text\/html/)
      expect(await page.text()).toContain('<script type="module" src="demo.js"')
      for (const [file, type] of [
        ['demo.js', /javascript/],
        ['chat.js', /javascript/],
        ['vendor/sse-client.js', /javascript/],
        ['demo.css', /^text\/css/],
      ] as const) {
        const response = await fetch(`${app.url}/${file}`)
        expect(response.status).toBe(200)
        expect(response.headers.get('content-type')).toMatch(type)
        expect((await response.text()).length).toBeGreaterThan(100)
      }
    })

    it('GET /events starts with retry, then a tick every TICK_MS: n increasing, ISO time', async () => {
      const stream = await open()
      expect(stream.status).toBe(200)
      expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8')
      await waitFor('4 ticks', () => ticksOf(stream.events()).length >= 4, { timeout: 10_000 })
      expect(stream.text()).toMatch(/^retry: \d+\n\n/)
      const ticks = ticksOf(stream.events())
      ticks.forEach((tick, i) => {
        expect(Number.isInteger(tick.n)).toBe(true)
        if (i > 0) expect(tick.n).toBe(ticks[i - 1]!.n + 1)
        expect(new Date(tick.time).toISOString()).toBe(tick.time)
        expect(tick.id).toMatch(/^[\x21-\x7e]+$/)
      })
      expect(new Set(ticks.map((tick) => tick.id)).size).toBe(ticks.length)
      stream.close()
    })

    it('sends heartbeat comments while the stream is idle', async () => {
      const stream = await open()
      const comments = await stream.waitForComments(2, { timeout: 10_000 })
      expect(comments.every((comment) => comment.text === '')).toBe(true)
      stream.close()
    })

    it('POST /notify answers 202 once stored, and every stream gets the notification', async () => {
      const stream = await open()
      await stream.waitForEvents(1, { timeout: 10_000 })
      // Other tests publish too: ours are told apart by their text.
      const texts = [`hello from the smoke test ${Date.now()}`, 'x'.repeat(1000)]
      for (const text of texts) {
        const response = await post('/notify', JSON.stringify({ text }))
        expect(response.status).toBe(202)
        expect(await response.json()).toEqual({ ok: true })
      }
      const notifications = await waitFor(
        'the two notifications',
        () => {
          const found = texts.map((text) => notificationOf(stream, text))
          return found.every((event) => event !== undefined) && found
        },
        { timeout: 10_000 },
      )
      const events = stream.events()
      expect(events.indexOf(notifications[0]!)).toBeLessThan(events.indexOf(notifications[1]!))
      notifications.forEach((event, i) => {
        const data = JSON.parse(event.data)
        expect(data).toEqual({ text: texts[i], time: expect.any(String) })
        expect(new Date(data.time).toISOString()).toBe(data.time)
        // Stored: each carries an id, one no other event of the stream has.
        expect(event.id).toMatch(/^[\x21-\x7e]+$/)
        expect(events.filter((other) => other.id === event.id)).toEqual([event])
      })
      stream.close()
    })

    it('POST /notify refuses bad requests with 400 or 413 and {error}, publishing nothing', async () => {
      const stream = await open()
      await stream.waitForEvents(1, { timeout: 10_000 })
      const json = 'application/json'
      // `{"text":"xxx..."}` of exactly `bytes` bytes.
      const sized = (bytes: number) => `{"text":"${'x'.repeat(bytes - 11)}"}`
      const cases: [what: string, body: string, type: string, status: number][] = [
        ['invalid JSON', '{"text": "unterminated', json, 400],
        ['no text', '{}', json, 400],
        ['an empty text', '{"text":""}', json, 400],
        ['a text that is not a string', '{"text":42}', json, 400],
        ['a JSON string', '"hello"', json, 400],
        ['JSON null', 'null', json, 400],
        ['a text of 1001 characters', JSON.stringify({ text: 'x'.repeat(1001) }), json, 400],
        ['a text/plain body', '{"text":"refused"}', 'text/plain', 400],
        ['a form', 'text=refused', 'application/x-www-form-urlencoded', 400],
        ['a body of exactly 64 KiB (text too long)', sized(64 * 1024), json, 400],
        ['a body over 64 KiB', sized(64 * 1024 + 1), json, 413],
      ]
      expect(sized(100)).toHaveLength(100)
      for (const [what, body, type, status] of cases) {
        const response = await post('/notify', body, type)
        expect({ what, status: response.status }).toEqual({ what, status })
        expect({ what, body: await response.json() }).toEqual({
          what,
          body: { error: expect.stringMatching(/\S/) },
        })
      }
      const response = await post('/notify', JSON.stringify({ text: 'after the refusals' }))
      expect(response.status).toBe(202)
      await waitFor(
        'the notification sent after the refusals',
        () => notificationOf(stream, 'after the refusals'),
        { timeout: 10_000 },
      )
      // Other tests publish valid notifications meanwhile; none of the refused ones went out.
      const published = stream
        .events()
        .filter((event) => event.event === 'notification')
        .map((event) => JSON.parse(event.data).text)
      for (const text of published) {
        expect(typeof text === 'string' && text !== 'refused' && text.length >= 1).toBe(true)
        expect(text.length).toBeLessThanOrEqual(1000)
      }
      stream.close()
    })

    for (const via of ['header', 'query'] as const) {
      it(`resumes from a Last-Event-ID ${via}: exactly the retained events after it, then live`, async () => {
        // A stream that stays connected throughout: what the resumed one must match.
        const reference = await open()
        const first = await open()
        await waitFor('2 ticks', () => ticksOf(first.events()).length >= 2, { timeout: 10_000 })
        const cursor = first.events().at(-1)!.id!
        first.close()
        // Missed while away: a notification between ticks, kept in the same history.
        expect((await post('/notify', JSON.stringify({ text: `missed (${via})` }))).status).toBe(
          202,
        )
        await waitFor('3 events missed', () => after(reference, cursor).length >= 3, {
          timeout: 10_000,
        })
        const resumed =
          via === 'header'
            ? await open('/events', { 'last-event-id': cursor })
            : await open(`/events?lastEventId=${encodeURIComponent(cursor)}`)
        expect(resumed.status).toBe(200)
        expect(resumed.headers['sse-replay']).toBe('complete')
        // The replay, then two live events.
        const count = after(reference, cursor).length + 2
        await resumed.waitForEvents(count, { timeout: 10_000 })
        await waitFor('the reference to catch up', () => after(reference, cursor).length >= count, {
          timeout: 10_000,
        })
        const got = resumed.events().map(({ id, event, data }) => ({ id, event, data }))
        expect(got.slice(0, count)).toEqual(after(reference, cursor).slice(0, count))
        expect(got.some((event) => event.event === 'notification')).toBe(true)
        resumed.close()
        reference.close()
      })
    }

    it('tells a client whose Last-Event-ID it does not know that history was lost', async () => {
      const stream = await open('/events', { 'last-event-id': 'not-an-id-of-this-server' })
      expect(stream.headers['sse-replay']).toBe('lost')
      const [first] = await stream.waitForEvents(1, { timeout: 10_000 })
      expect(first!.event).toBe('history-lost')
      // `{}`: the events published to everyone, the only ones a demo stream follows.
      expect(JSON.parse(first!.data)).toEqual({
        lastEventId: 'not-an-id-of-this-server',
        lost: [{}],
      })
      stream.close()
    })

    chatCases(() => app)

    it('with STREAM_LIFETIME_MS, ends each stream after about that long', async () => {
      // Timed from before the request: the server's clock for the lifetime starts later than
      // that, whereas the head can reach a busy client late and make the stream look short.
      const asked = Date.now()
      const stream = await openStream({ url: short.url, http2: false })
      streams.push(stream)
      await stream.waitForClose(10_000)
      expect(stream.ended).toBe(true)
      // Core's jitter shortens a lifetime by up to 10%, never lengthens or cuts it more.
      expect(Date.now() - asked).toBeGreaterThanOrEqual(400)
    })

    it('with STREAM_LIFETIME_MS, a reconnecting client gets every tick exactly once', async () => {
      const client = connectEventSource({ url: short.url, http2: false }, { events: ['tick'] })
      try {
        await waitFor('3 reconnects', () => client.requests.length >= 4, { timeout: 20_000 })
        await waitFor(
          'a tick after the last reconnect',
          () => (client.messages.at(-1)?.at ?? 0) > client.requests.at(-1)!.at,
          { timeout: 10_000 },
        )
      } finally {
        client.close()
      }
      expect(client.requests.slice(1).every((r) => r.headers['Last-Event-ID'])).toBe(true)
      const ns = client.messages.map((message) => JSON.parse(message.data).n as number)
      expect(ns.length).toBeGreaterThan(10)
      expect(ns).toEqual(ns.map((_, i) => ns[0]! + i))
    })
  })
}
