import type { SseMessage, SseStream } from '@sse/core'
import fc from 'fast-check'
import { expect } from 'vitest'
import { framingProblems } from '../sse-reader'
import { sleep } from '../wait'
import { type CaseContext, type ConformanceCase, streamLog } from './harness'

/** What a spec-compliant client sees of a string: CRLF and CR become LF, lone surrogates U+FFFD. */
export function asParsed(text: string): string {
  return wellFormed(text.replace(/\r\n|\r/g, '\n'))
}

function wellFormed(text: string): string {
  // String.prototype.toWellFormed (ES2024, Node 20+) is what the WHATWG UTF-8 encoder amounts to.
  return (text as unknown as { toWellFormed(): string }).toWellFormed()
}

/** Opens one stream whose stream the case drives directly; heartbeats off so only events flow. */
async function openDriven(t: CaseContext) {
  const log = streamLog()
  const server = await t.start({ options: () => ({ heartbeat: false }), onOpen: log.onOpen })
  const client = await t.stream(server)
  const stream = await log.nth(0)
  await client.waitForText(/\n\n/)
  const preludeLength = client.text().length
  return { server, client, stream, body: () => client.text().slice(preludeLength) }
}

function catchError(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  return undefined
}

function expectFieldError(error: unknown, field: string): void {
  expect(error, `expected a TypeError naming "${field}"`).toBeInstanceOf(TypeError)
  expect((error as TypeError).message).toContain(field)
}

// Pieces that stress the encoder, mixed with arbitrary code points (and lone surrogates).
const tricky = fc.constantFrom(
  '\r',
  '\n',
  '\r\n',
  '\n\r',
  '\0',
  ' ',
  ':',
  '\uFEFF',
  '😀',
  '\uD800',
  '\uDFFF',
  'data: x',
)
const anyUnit = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: tricky },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  },
)
const anyText = fc.string({ unit: anyUnit, maxLength: 40 })
const oneLine = (forbidden: RegExp) => anyText.map((s) => s.replace(forbidden, ''))

async function sendAndRead(
  stream: SseStream,
  client: Awaited<ReturnType<typeof openDriven>>['client'],
  message: SseMessage,
) {
  const before = client.events().length
  stream.send(message)
  const events = await client.waitForEvents(before + 1, { timeout: 2000, interval: 1 })
  return events[before]!
}

/** C07-C14: encoding, checked on the exact bytes and through eventsource-parser. */
export const encodingCases: ConformanceCase[] = [
  {
    name: 'C07 splits data on CR, LF and CRLF into one data line each',
    async run(t) {
      const { client, stream, body } = await openDriven(t)
      stream.send({ data: 'a\nb\rc\r\nd' })
      stream.send({ data: 'end\n' })
      const events = await client.waitForEvents(2)
      expect(body()).toBe('data: a\ndata: b\ndata: c\ndata: d\n\ndata: end\ndata:\n\n')
      expect(events.map((e) => e.data)).toEqual(['a\nb\nc\nd', 'end\n'])
    },
  },
  {
    name: 'C07 sends empty data as one data line that dispatches ""',
    async run(t) {
      const { client, stream, body } = await openDriven(t)
      stream.send({ data: '' })
      stream.send('named', '')
      const events = await client.waitForEvents(2)
      expect(body()).toBe('data:\n\nevent: named\ndata:\n\n')
      expect(events.map((e) => [e.event, e.data])).toEqual([
        [undefined, ''],
        ['named', ''],
      ])
    },
  },
  {
    name: 'C07 keeps U+0000 inside data',
    async run(t) {
      const { client, stream } = await openDriven(t)
      stream.send({ data: 'a\0b' })
      const [event] = await client.waitForEvents(1)
      expect(event!.data).toBe('a\0b')
      expect(client.bytes().includes(Buffer.from('data: a\0b\n'))).toBe(true)
    },
  },
  {
    name: 'C08 rejects event and id with CR, LF or NUL with a TypeError naming the field; the stream stays usable',
    async run(t) {
      const { client, stream, body } = await openDriven(t)
      for (const bad of ['a\nb', 'a\rb', 'a\r\nb']) {
        expectFieldError(
          catchError(() => stream.send({ event: bad, data: 'x' })),
          'event',
        )
        expectFieldError(
          catchError(() => stream.send(bad, 'x')),
          'event',
        )
      }
      for (const bad of ['a\nb', 'a\rb', 'a\0b', 'a\r\nb']) {
        expectFieldError(
          catchError(() => stream.send({ id: bad, data: 'x' })),
          'id',
        )
        expectFieldError(
          catchError(() => stream.send('ok', 'x', { id: bad })),
          'id',
        )
      }
      expect(stream.closed).toBe(false)
      stream.send({ event: 'after', data: 'still here', id: '1' })
      const events = await client.waitForEvents(1)
      // Nothing of the rejected events reached the wire: no field injection, no half event.
      expect(body()).toBe('event: after\nid: 1\ndata: still here\n\n')
      expect(events).toHaveLength(1)
    },
  },
  {
    name: 'C08 omits an empty event name',
    async run(t) {
      const { client, stream, body } = await openDriven(t)
      stream.send({ event: '', data: 'x' })
      const [event] = await client.waitForEvents(1)
      expect(body()).toBe('data: x\n\n')
      expect(event!.event).toBeUndefined()
    },
  },
  {
    name: 'C09 writes retry as ASCII digits and rejects non-integers with a TypeError naming retry',
    async run(t) {
      const { client, stream, body } = await openDriven(t)
      for (const bad of [
        1.5,
        -1,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        '100' as unknown as number,
      ]) {
        expectFieldError(
          catchError(() => stream.retry(bad)),
          'retry',
        )
        expectFieldError(
          catchError(() => stream.send({ data: 'x', retry: bad })),
          'retry',
        )
      }
      stream.retry(2500)
      stream.send({ data: 'x', retry: 0 })
      await client.waitForEvents(1)
      expect(body()).toBe('retry: 2500\n\nretry: 0\ndata: x\n\n')
      expect(client.retries().slice(-2)).toEqual([2500, 0])
    },
  },
  {
    name: 'C10 writes a multi-line comment as several comment lines',
    async run(t) {
      const { client, stream, body } = await openDriven(t)
      stream.comment('one\ntwo\r\nthree\rfour')
      stream.send({ data: 'x', comment: 'c1\nc2' })
      await client.waitForEvents(1)
      expect(body()).toBe(': one\n: two\n: three\n: four\n\n: c1\n: c2\ndata: x\n\n')
      expect(client.comments().map((c) => c.text)).toEqual([
        'one',
        'two',
        'three',
        'four',
        'c1',
        'c2',
      ])
    },
  },
  {
    name: 'C11 ends every event with a blank line and never splits one with a heartbeat',
    async run(t) {
      const sent: string[] = []
      const server = await t.start({
        options: () => ({ heartbeat: 20 }),
        async onOpen(stream) {
          for (let i = 0; i < 40; i++) {
            // Mixed sizes, the large ones over many TCP segments, with idle gaps for heartbeats.
            const size = i % 10 === 0 ? 100_000 : (i * 37) % 500
            const data = `${i}\n${'line\n'.repeat(size / 5)}${'x'.repeat(size % 7)}`
            sent.push(data)
            stream.send({ event: 'e', id: String(i), data })
            await sleep(i % 10 === 9 ? 60 : i % 3)
          }
          stream.send({ event: 'done', data: '' })
        },
      })
      const client = await t.stream(server)
      await client.waitForEvents(41, { timeout: 10_000 })
      expect(client.comments().length, 'heartbeats were sent during the idle gaps').toBeGreaterThan(
        0,
      )
      expect(framingProblems(client.text())).toEqual([])
      const events = client.events().slice(0, 40)
      expect(events.map((e) => e.data)).toEqual(sent)
      expect(events.map((e) => e.id)).toEqual(sent.map((_, i) => String(i)))
    },
  },
  {
    name: 'C12 keeps a leading space of data, event names and ids',
    async run(t) {
      const { client, stream } = await openDriven(t)
      stream.send({ event: ' spaced', id: ' 7', data: ' lead\n  two' })
      const [event] = await client.waitForEvents(1)
      expect(event).toMatchObject({ event: ' spaced', id: ' 7', data: ' lead\n  two' })
    },
  },
  {
    name: 'C13 writes UTF-8 without BOM and keeps astral characters intact',
    async run(t) {
      const { client, stream } = await openDriven(t)
      const text = 'astral 😀 𝄞 🇫🇷, é, 中文, \uFEFF inside'
      stream.send({ event: 'ü', data: text })
      const [event] = await client.waitForEvents(1)
      const bytes = client.bytes()
      expect([...bytes.subarray(0, 3)]).not.toEqual([0xef, 0xbb, 0xbf])
      expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes)).not.toThrow()
      expect(event).toMatchObject({ event: 'ü', data: text })
    },
  },
  {
    name: 'C13 turns lone surrogates into U+FFFD without corrupting the stream',
    async run(t) {
      const { client, stream } = await openDriven(t)
      stream.send({ data: 'a\uD800b\uDC00c\uDC00\uD800d' })
      stream.send({ data: 'next' })
      const events = await client.waitForEvents(2)
      expect(() => new TextDecoder('utf-8', { fatal: true }).decode(client.bytes())).not.toThrow()
      expect(events.map((e) => e.data)).toEqual(['a\uFFFDb\uFFFDc\uFFFD\uFFFDd', 'next'])
    },
  },
  {
    name: 'C14 round-trips any data string to eventsource-parser (property, 300 runs)',
    async run(t) {
      const { client, stream } = await openDriven(t)
      await fc.assert(
        fc.asyncProperty(anyText, async (data) => {
          const event = await sendAndRead(stream, client, { data })
          expect(event.data).toBe(asParsed(data))
          expect(event.event).toBeUndefined()
        }),
        { numRuns: 300 },
      )
      expect(framingProblems(client.text())).toEqual([])
    },
  },
  {
    name: 'C14 round-trips event names and ids with their data (property, 300 runs)',
    async run(t) {
      const { client, stream } = await openDriven(t)
      const message = fc.record({
        event: oneLine(/[\r\n]/g),
        id: oneLine(/[\r\n\0]/g),
        data: anyText,
      })
      await fc.assert(
        fc.asyncProperty(message, async ({ event, id, data }) => {
          const received = await sendAndRead(stream, client, { event, id, data })
          expect(received.event).toBe(event === '' ? undefined : wellFormed(event))
          expect(received.id).toBe(wellFormed(id))
          expect(received.data).toBe(asParsed(data))
        }),
        { numRuns: 300 },
      )
    },
  },
]
