import { request } from 'node:http'
import {
  createHub,
  type EventFields,
  encodeComment,
  encodeEvent,
  MemoryStore,
  type SseMessage,
  type SseStream,
} from '@sse/core'
import { type Connection, type ConnectionEvents, openStream, type Sink } from '@sse/core/adapter'
import { type ServerUnderTest, waitFor } from '@sse/test-utils'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { figure, since, timeFile } from './support/figures'
import {
  anyText,
  expectedItems,
  hostileText,
  type Item,
  lineText,
  validFields,
  WireReader,
} from './support/model'
import { adapters } from './support/targets'

timeFile(import.meta.url)

const ROUND_TRIP_EVENTS = 100_000

/** Splits bytes at random offsets, as TCP may deliver them (inside UTF-8 sequences too). */
function chunked(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let from = 0
  for (const point of points) {
    out.push(bytes.subarray(from, point))
    from = point
  }
  out.push(bytes.subarray(from))
  return out
}

/** Encodes `events` as one stream, delivers it in random chunks, and returns what was parsed. */
function throughTheWire(events: readonly EventFields[], cuts: readonly number[]): WireReader {
  const text = events.map((fields) => encodeEvent(fields)).join('')
  const reader = new WireReader()
  for (const chunk of chunked(Buffer.from(text, 'utf8'), cuts)) reader.push(chunk)
  return reader
}

/** An in-process connection: what a stream writes is collected as text. */
class TextConnection implements Sink {
  text = ''
  head: number | undefined
  events: ConnectionEvents | undefined
  readonly bufferedBytes = 0
  write(chunk: string | Uint8Array): boolean {
    this.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    return true
  }
  end(): void {
    this.events?.closed()
  }
  destroy(): void {
    this.events?.closed()
  }
  connection(): Connection {
    return {
      sink: this,
      http2: false,
      lastEventIdHeader: undefined,
      url: '/events',
      writeHead: (status) => {
        this.head = status
      },
      attach: (events) => {
        this.events = events
      },
    }
  }
}

function parse(text: string): WireReader {
  const reader = new WireReader()
  reader.push(Buffer.from(text, 'utf8'))
  return reader
}

describe('fuzzing: what the API accepts arrives byte-exact, nothing can be injected', () => {
  it(`round-trips ${ROUND_TRIP_EVENTS.toLocaleString('en')}+ generated events through eventsource-parser`, () => {
    const start = performance.now()
    let events = 0
    let runs = 0
    fc.assert(
      fc.property(
        fc.array(validFields, { minLength: 5, maxLength: 15 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (batch, cuts) => {
          runs++
          events += batch.length
          const reader = throughTheWire(batch, cuts)
          expect(reader.errors).toEqual([])
          expect(reader.items).toEqual(batch.flatMap((fields) => expectedItems(fields)))
        },
      ),
      { numRuns: Math.ceil(ROUND_TRIP_EVENTS / 9) },
    )
    const ms = since(start)
    figure('fuzz', 'encodeEvent round trip', {
      events,
      runs,
      ms,
      eventsPerSecond: Math.round(events / (ms / 1000)),
    })
    expect(events).toBeGreaterThanOrEqual(ROUND_TRIP_EVENTS)
  })

  it('lets no hostile field create an extra field, event, comment or retry', () => {
    const start = performance.now()
    let events = 0
    fc.assert(
      fc.property(
        fc.array(
          fc
            .record(
              {
                data: fc.oneof(hostileText, fc.dictionary(hostileText, hostileText)),
                event: hostileText.map((s) => s.replace(/[\r\n]/g, '')),
                id: hostileText.map((s) => s.replace(/[\r\n\0]/g, '')),
                comment: hostileText,
              },
              { requiredKeys: ['data'] },
            )
            .map((f) => f as EventFields),
          { minLength: 1, maxLength: 8 },
        ),
        fc.array(fc.nat(), { maxLength: 4 }),
        (batch, cuts) => {
          events += batch.length
          const reader = throughTheWire(batch, cuts)
          const dispatched = reader.items.filter((item) => item.type === 'event')
          // Exactly one event per call, each with exactly the fields the call described.
          expect(dispatched).toHaveLength(batch.length)
          expect(reader.items.filter((item) => item.type === 'retry')).toEqual([])
          expect(reader.errors).toEqual([])
          expect(reader.items).toEqual(batch.flatMap((fields) => expectedItems(fields)))
        },
      ),
      { numRuns: 5000 },
    )
    figure('fuzz', 'injection via encodeEvent', { events, ms: since(start) })
  })

  it('lets no hostile event name or data injected through hub.publish reach a stream as more', async () => {
    const hub = createHub({ store: new MemoryStore({ maxEvents: 100 }), heartbeat: false })
    const client = new TextConnection()
    await openStream(client.connection(), { hub, retry: false })
    let published = 0
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ event: lineText, data: hostileText }), {
          minLength: 1,
          maxLength: 8,
        }),
        async (batch) => {
          client.text = ''
          const ids: string[] = []
          for (const { event, data } of batch) {
            await hub.publish({ event, data })
            // The id the stream got for it: the cursor of a caught-up stream right after it.
            ids.push(await hub.cursor())
          }
          published += batch.length
          const reader = parse(client.text)
          expect(reader.errors).toEqual([])
          expect(reader.items).toEqual(
            batch.flatMap(({ event, data }, i) => expectedItems({ event, data, id: ids[i] })),
          )
        },
      ),
      { numRuns: 1000 },
    )
    await hub.shutdown({ grace: 0 })
    figure('fuzz', 'injection via hub.publish', { events: published })
  })
})

// Each case gives one invalid value for one field; everything else in the call is valid.
type Rejection = {
  field: string
  call: string
  /** The bad value, for fast-check's report of a counterexample. */
  value?: unknown
  run: (ctx: RejectionContext) => unknown
}
interface RejectionContext {
  session: SseStream
  hub: ReturnType<typeof createHub>
  connection: () => Connection
}

const circular: Record<string, unknown> = {}
circular.self = circular
const notText = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant({}),
  fc.constant([]),
  fc.bigInt(),
  fc.constant(Symbol('s')),
  fc.constant(() => 'f'),
)
const withBreak = fc
  .tuple(anyText, fc.constantFrom('\r', '\n', '\r\n'), anyText)
  .map(([a, b, c]) => a + b + c)
const withIdForbidden = fc
  .tuple(anyText, fc.constantFrom('\r', '\n', '\0'), anyText)
  .map(([a, b, c]) => a + b + c)
const badNumber = fc.oneof(
  fc.integer({ max: -1 }),
  fc.double({ noInteger: true }),
  fc.constantFrom(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    2 ** 53,
    Number.MAX_VALUE,
  ),
)
const badEvent = fc.oneof(
  withBreak,
  notText.filter((v) => typeof v !== 'undefined'),
)
const badId = fc.oneof(
  withIdForbidden,
  badNumber,
  notText.filter((v) => typeof v !== 'string' && typeof v !== 'number'),
)
const badRetry = fc.oneof(
  badNumber,
  anyText,
  notText.filter((v) => typeof v !== 'number'),
)
const badComment = notText
const badData = fc.constantFrom<unknown>(10n, circular, Symbol('s'), () => 1, {
  toJSON() {
    throw new Error('no')
  },
})
// Option values of the wrong type (false is valid for durations, so it is left out).
const notOption = fc.oneof(anyText, fc.constant(null), fc.constant({}), fc.constant(true))

function optionCase([field, value]: [string, unknown]): Rejection {
  return {
    field,
    value,
    call: 'open options',
    run: ({ connection }) => openStream(connection(), { [field]: value }),
  }
}

const rejections: fc.Arbitrary<Rejection> = fc.oneof(
  badEvent.map((event) => ({
    field: 'event',
    call: 'encodeEvent',
    run: () => encodeEvent({ event: event as string, data: 'x' }),
  })),
  badId.map((id) => ({
    field: 'id',
    call: 'encodeEvent',
    run: () => encodeEvent({ id: id as string, data: 'x' }),
  })),
  badRetry.map((retry) => ({
    field: 'retry',
    call: 'encodeEvent',
    run: () => encodeEvent({ retry: retry as number, data: 'x' }),
  })),
  badComment.map((comment) => ({
    field: 'comment',
    call: 'encodeEvent',
    run: () => encodeEvent({ comment: comment as string, data: 'x' }),
  })),
  badComment.map((comment) => ({
    field: 'comment',
    call: 'encodeComment',
    run: () => encodeComment(comment as string),
  })),
  badData.map((data) => ({ field: 'data', call: 'encodeEvent', run: () => encodeEvent({ data }) })),
  badEvent.map((event) => ({
    field: 'event',
    call: 'session.send',
    run: ({ session }: RejectionContext) => session.send({ event: event as string, data: 'x' }),
  })),
  badId.map((id) => ({
    field: 'id',
    call: 'session.send',
    run: ({ session }: RejectionContext) => session.send('e', 'x', { id: id as string }),
  })),
  badRetry.map((retry) => ({
    field: 'retry',
    call: 'session.retry',
    run: ({ session }: RejectionContext) => session.retry(retry as number),
  })),
  badComment.map((comment) => ({
    field: 'comment',
    call: 'session.comment',
    run: ({ session }: RejectionContext) => session.comment(comment as string),
  })),
  badData.map((data) => ({
    field: 'data',
    call: 'session.send',
    run: ({ session }: RejectionContext) => session.send('e', data),
  })),
  badEvent.map((event) => ({
    field: 'event',
    call: 'hub.publish',
    run: ({ hub }: RejectionContext) => hub.publish({ event: event as string, data: 'x' }),
  })),
  badData.map((data) => ({
    field: 'data',
    call: 'hub.publish',
    run: ({ hub }: RejectionContext) => hub.publish('e', data),
  })),
  fc.oneof(anyText, fc.maxSafeNat()).map((id) => ({
    field: 'id',
    call: 'hub.publish',
    run: ({ hub }: RejectionContext) => hub.publish({ data: 'x', id }),
  })),
  fc.maxSafeNat().map((retry) => ({
    field: 'retry',
    call: 'hub.publish',
    run: ({ hub }: RejectionContext) => hub.publish({ data: 'x', retry }),
  })),
  anyText.map((comment) => ({
    field: 'comment',
    call: 'hub.publish',
    run: ({ hub }: RejectionContext) => hub.publish({ data: 'x', comment }),
  })),
  fc
    .tuple(
      fc.constantFrom('topic', 'key'),
      notText.filter((v) => v !== undefined),
    )
    .map(([field, value]) => ({
      field,
      call: 'hub.publish target',
      run: ({ hub }: RejectionContext) => hub.publish('e', 'x', { [field]: value }),
    })),
  // A list of topics with one that is not text: nothing is kept, not even for the valid ones.
  fc
    .tuple(
      fc.array(anyText, { maxLength: 3 }),
      notText.filter((v) => v !== undefined),
    )
    .map(([topics, value]) => ({
      field: 'topic',
      call: 'hub.publish topics',
      value,
      run: ({ hub }: RejectionContext) =>
        hub.publish('e', 'x', { topic: [...topics, value] as string[] }),
    })),
  fc
    .oneof(anyText, fc.integer(), fc.constant(null), fc.constant({}), fc.constant([]))
    .map((value) => ({
      field: 'history',
      call: 'hub.publish',
      value,
      run: ({ hub }: RejectionContext) =>
        hub.publish('e', 'x', { history: value as unknown as boolean }),
    })),
  fc
    .tuple(fc.constantFrom('heartbeat', 'retry', 'maxLifetime'), fc.oneof(badNumber, notOption))
    .map(optionCase),
  fc
    .tuple(
      fc.constantFrom('retryJitter', 'lifetimeJitter'),
      fc.oneof(
        fc.double({ min: 1, minExcluded: true }),
        // -0 counts as 0 here, a valid jitter.
        fc.double({ max: 0, maxExcluded: true }).filter((v) => !Object.is(v, -0)),
        fc.constant(Number.NaN),
        notOption,
      ),
    )
    .map(optionCase),
  fc
    .tuple(
      fc.constant('maxBufferedBytes'),
      fc.oneof(fc.double({ max: 0 }), fc.constant(Number.NaN), notOption),
    )
    .map(optionCase),
  fc.tuple(fc.constant('serialize'), fc.oneof(badNumber, notOption)).map(optionCase),
  fc
    .tuple(
      fc.constant('coalesce'),
      fc.oneof(badNumber, anyText, fc.constant(null), fc.constant({})),
    )
    .map(optionCase),
)

describe('fuzzing: every rejected input throws a TypeError naming the field', () => {
  it('rejects invalid event fields, publish arguments and stream options, and sends nothing', async () => {
    const store = new MemoryStore({ maxEvents: 10 })
    const hub = createHub({ store, heartbeat: false })
    const client = new TextConnection()
    const session = await openStream(client.connection(), { hub, retry: false })
    const perCall = new Map<string, number>()
    const fresh = new TextConnection()
    const ctx: RejectionContext = { session, hub, connection: () => fresh.connection() }
    await fc.assert(
      fc.asyncProperty(rejections, async ({ field, call, run }) => {
        const before = client.text
        fresh.head = undefined
        let thrown: unknown
        try {
          // Rejections are synchronous, before any promise: nothing reaches the store or the wire.
          const result = run(ctx)
          if (result instanceof Promise) await result
        } catch (error) {
          thrown = error
        }
        expect(thrown, `${call} with a bad ${field}`).toBeInstanceOf(TypeError)
        expect((thrown as Error).message).toContain(`"${field}"`)
        expect(client.text).toBe(before)
        expect(fresh.head).toBeUndefined()
        perCall.set(`${call} ${field}`, (perCall.get(`${call} ${field}`) ?? 0) + 1)
      }),
      { numRuns: 5000 },
    )
    expect(session.closed).toBe(false)
    // Nothing was stored, in any log (the hub-wide one, a topic's or a key's).
    expect(store.read('*', undefined)).toMatchObject({ events: [] })
    expect(store.size).toBe(0)
    figure('fuzz', 'rejections', {
      inputs: [...perCall.values()].reduce((a, b) => a + b, 0),
      kinds: perCall.size,
    })
    // Over maxEventBytes is a size limit, not a malformed field: a RangeError naming the data.
    await expect(hub.publish('e', 'x'.repeat(300_000))).rejects.toThrow(RangeError)
    await expect(hub.publish('e', 'x'.repeat(300_000))).rejects.toThrow(/data .*maxEventBytes/)
    await hub.shutdown({ grace: 0 })
  })
})

describe.each(adapters)('fuzzing over a real socket: $name', (target) => {
  let server: ServerUnderTest
  let session: SseStream | undefined
  const hub = createHub({ store: new MemoryStore({ maxEvents: 1000 }), heartbeat: false })
  const reader = new WireReader()
  let req: ReturnType<typeof request> | undefined

  beforeAll(async () => {
    server = await target.start({
      options: () => ({ hub, retry: 1000 }),
      onOpen: (s) => {
        session = s
      },
    })
    req = request(`${server.url}/events`, { headers: { accept: 'text/event-stream' } })
    req.on('response', (res) => res.on('data', (chunk: Buffer) => reader.push(chunk)))
    req.on('error', () => {})
    req.end()
    await waitFor('the stream to open', () => session && reader.items.length > 0, {
      timeout: 10_000,
    })
  })

  afterAll(async () => {
    req?.destroy()
    await hub.shutdown({ grace: 100 })
    await server.close()
  })

  it('delivers what session.send and hub.publish accept, byte-exact, and nothing more', async () => {
    let sent = 0
    let marker = 0
    const start = performance.now()
    const expectBatch = async (write: () => Promise<Item[]>) => {
      const from = reader.items.length
      const expected = await write()
      const end = `end-${++marker}`
      session!.send({ event: end, data: '' })
      await waitFor(`marker ${end}`, () =>
        reader.items.some((item) => item.type === 'event' && item.event === end),
      )
      const received = reader.items.slice(from, -1)
      expect(reader.errors).toEqual([])
      expect(received).toEqual(expected)
    }
    await fc.assert(
      fc.asyncProperty(fc.array(validFields, { minLength: 1, maxLength: 10 }), async (batch) => {
        sent += batch.length
        await expectBatch(async () => {
          for (const fields of batch) session!.send(fields as SseMessage)
          return batch.flatMap((fields) => expectedItems(fields))
        })
      }),
      { numRuns: 25 },
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ event: lineText, data: hostileText }), {
          minLength: 1,
          maxLength: 10,
        }),
        async (batch) => {
          sent += batch.length
          await expectBatch(async () => {
            const ids: string[] = []
            for (const event of batch) {
              await hub.publish(event)
              ids.push(await hub.cursor())
            }
            return batch.flatMap((event, i) => expectedItems({ ...event, id: ids[i] }))
          })
        },
      ),
      { numRuns: 25 },
    )
    figure('fuzz', `socket ${target.name}`, { events: sent, ms: since(start) })
  })
})
