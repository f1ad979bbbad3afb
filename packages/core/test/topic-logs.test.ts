import { RecordingClient } from '@sse/test-utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createHub } from '../src/hub'
import { MemoryStore } from '../src/memory-store'
import { openStream } from '../src/open'

type Hub = ReturnType<typeof createHub>
const flush = () => new Promise((resolve) => setTimeout(resolve, 0))

async function connect(
  hub: Hub,
  options: { topics?: string[]; key?: string },
  lastEventId?: string,
) {
  const client = new RecordingClient(lastEventId)
  const stream = await openStream(client.connection(), { hub, ...options })
  await flush()
  return { client, stream }
}

/** The data of the events a client received (named events other than the cursor's). */
function received(client: RecordingClient): string[] {
  return [...client.text.matchAll(/^data: (.*)$/gm)].map((m) => m[1]!).filter((d) => d !== '')
}

function lostData(client: RecordingClient): unknown {
  const match = /event: history-lost\n(?:id: .*\n)?data: (.*)\n/.exec(client.text)
  return match && JSON.parse(match[1]!)
}

describe('topic logs (C27, C28)', () => {
  it('never tells a quiet topic lost because a busy one pushed its history out (C27)', async () => {
    const hub = createHub({ store: new MemoryStore({ maxEvents: 100 }) })
    const { client } = await connect(hub, { topics: ['quiet'] })
    await hub.publish('n', 'q1', { topic: 'quiet' })
    const cursor = client.ids.at(-1)!
    client.leave()
    for (let i = 0; i < 1000; i++) await hub.publish('n', String(i), { topic: 'busy' })
    await hub.publish('n', 'q2', { topic: 'quiet' })
    const back = await connect(hub, { topics: ['quiet'] }, cursor)
    expect(back.client.head?.headers['SSE-Replay']).toBe('complete')
    expect(received(back.client)).toEqual(['q2'])
  })

  it('resumes several topics with one Last-Event-ID: each in order, nothing lost or repeated (C28)', async () => {
    const hub = createHub()
    const topics = ['a', 'b', 'c']
    const first = await connect(hub, { topics })
    await hub.publish('n', 'a1', { topic: 'a' })
    await hub.publish('n', 'b1', { topic: 'b' })
    await hub.publish('n', 'all1')
    const cursor = first.client.ids.at(-1)!
    first.client.leave()
    await hub.publish('n', 'b2', { topic: 'b' })
    await hub.publish('n', 'x1', { topic: 'x' })
    await hub.publish('n', 'a2', { topic: 'a' })
    await hub.publish('n', 'c1', { topic: 'c' })
    const back = await connect(hub, { topics }, cursor)
    await hub.publish('n', 'b3', { topic: 'b' })
    expect(received(first.client)).toEqual(['a1', 'b1', 'all1'])
    expect(received(back.client)).toEqual(['b2', 'a2', 'c1', 'b3'])
    expect(back.client.head?.headers['SSE-Replay']).toBe('complete')
    // The last id is where every caught-up stream of the same topics is.
    expect(back.client.ids.at(-1)).toBe(await hub.cursor({ topics }))
  })

  it('names the targets that lost history and replays the others in full (C27)', async () => {
    const hub = createHub({ store: new MemoryStore({ maxEvents: 3 }) })
    const membership = { topics: ['a', 'b'], key: 'ann' }
    const first = await connect(hub, membership)
    const cursor = first.client.ids.at(-1)!
    first.client.leave()
    await hub.publish('n', 'a1', { topic: 'a' })
    for (let i = 0; i < 5; i++) await hub.publish('n', `b${i}`, { topic: 'b' })
    for (let i = 0; i < 4; i++) await hub.publish('n', `ann${i}`, { key: 'ann' })
    const back = await connect(hub, membership, cursor)
    expect(back.client.head?.headers['SSE-Replay']).toBe('lost')
    expect(lostData(back.client)).toEqual({
      lastEventId: cursor,
      lost: [{ key: 'ann' }, { topic: 'b' }],
    })
    expect(received(back.client).slice(1)).toEqual(['a1', 'b2', 'b3', 'b4', 'ann1', 'ann2', 'ann3'])
    // The replay ends at the whole cursor: the next resume reports nothing lost.
    const next = await connect(hub, membership, back.client.ids.at(-1))
    expect(next.client.head?.headers['SSE-Replay']).toBe('complete')
    expect(received(next.client)).toEqual([])
  })

  it('delivers an event published to several topics to each, and keeps it in each', async () => {
    const hub = createHub()
    const a = await connect(hub, { topics: ['a'] })
    const b = await connect(hub, { topics: ['b'] })
    const cursorA = a.client.ids.at(-1)!
    await hub.publish('alert', 'storm', { topic: ['a', 'b', 'a'] })
    expect(received(a.client)).toEqual(['storm'])
    expect(received(b.client)).toEqual(['storm'])
    const again = await connect(hub, { topics: ['a'] }, cursorA)
    expect(received(again.client)).toEqual(['storm'])
  })

  it('sends an event published without history live, with no id, and never replays it', async () => {
    const hub = createHub()
    const { client } = await connect(hub, { topics: ['room'] })
    const cursor = client.ids.at(-1)!
    await hub.publish('typing', 'ann', { topic: 'room', history: false })
    expect(client.text).toMatch(/event: typing\ndata: ann\n\n$/)
    expect(client.ids).toEqual([cursor])
    const back = await connect(hub, { topics: ['room'] }, cursor)
    expect(back.client.head?.headers['SSE-Replay']).toBe('complete')
    expect(received(back.client)).toEqual([])
  })

  it("never replays another key's events of a shared topic", async () => {
    const hub = createHub()
    const ann = await connect(hub, { topics: ['room'], key: 'ann' })
    const cursor = ann.client.ids.at(-1)!
    ann.client.leave()
    await hub.publish('n', 'for bob', { topic: 'room', key: 'bob' })
    await hub.publish('n', 'for ann', { topic: 'room', key: 'ann' })
    await hub.publish('n', 'for all', { topic: 'room' })
    const back = await connect(hub, { topics: ['room'], key: 'ann' }, cursor)
    expect(received(back.client)).toEqual(['for ann', 'for all'])
  })

  it('encodes an event once per layout: caught-up streams of the same topics share the bytes', async () => {
    const hub = createHub()
    const one = await connect(hub, { topics: ['a', 'b'] })
    const two = await connect(hub, { topics: ['b', 'a'] })
    const other = await connect(hub, { topics: ['a'] })
    await hub.publish('n', 'x', { topic: 'a' })
    expect(one.client.chunks.at(-1)).toBe(two.client.chunks.at(-1))
    expect(other.client.chunks.at(-1)).not.toBe(one.client.chunks.at(-1))
  })

  it('treats a cursor of other topics as lost and never replays a topic the stream does not follow', async () => {
    const hub = createHub()
    const secret = await connect(hub, { topics: ['secret'] })
    await hub.publish('n', 'classified', { topic: 'secret' })
    const foreign = secret.client.ids.at(-1)!
    const back = await connect(hub, { topics: ['public'] }, foreign)
    expect(back.client.head?.headers['SSE-Replay']).toBe('lost')
    expect(back.client.text).not.toContain('classified')
  })

  it('answers any crafted Last-Event-ID without throwing, within its own topics (fuzz)', async () => {
    const hub = createHub({ store: new MemoryStore({ maxEvents: 5 }) })
    const seed = await connect(hub, { topics: ['a', 'b'] })
    for (let i = 0; i < 20; i++) await hub.publish('n', `a${i}`, { topic: i % 2 ? 'a' : 'b' })
    await hub.publish('n', 'hidden', { topic: 'c' })
    const real = seed.client.ids.at(-1)!
    const [tag, epoch] = real.split('.')
    const printable = fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    })
    const crafted = fc.oneof(
      printable,
      fc.array(printable, { maxLength: 6 }).map((parts) => [tag, epoch, ...parts].join('.')),
      fc
        .array(
          fc.nat(40).map((n) => n.toString(36)),
          { maxLength: 5 },
        )
        .map((p) => [tag, epoch, ...p].join('.')),
    )
    await fc.assert(
      fc.asyncProperty(crafted, async (id) => {
        const { client, stream } = await connect(hub, { topics: ['a', 'b'] }, id)
        expect(client.head?.status).toBe(200)
        expect(client.text).not.toContain('hidden')
        // At most every retained event of the stream's three logs.
        expect(received(client).filter((d) => !d.startsWith('{')).length).toBeLessThanOrEqual(15)
        stream.close()
      }),
      { numRuns: 300 },
    )
  })
})
