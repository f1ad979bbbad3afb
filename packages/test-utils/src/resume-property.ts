import { createHub, type EventStore, type Hub, type LogReplay } from '@sse/core'
import { openStream } from '@sse/core/adapter'
import fc from 'fast-check'
import { expect } from 'vitest'
import { RecordingClient } from './recording-client'

/*
 * The resume property (C20, C27, C28), for any store: 8 clients over 4 topics and the hub-wide
 * log, under random publishes (fired without waiting), leaves, reconnects (some without
 * reading, so replays wait for drain while events arrive), pauses and resumes. Each client must
 * end with every event of its topics, each topic in publish order, none twice; an event it
 * never got is allowed only after it was told that topic lost history.
 */

const CLIENTS = 8
const TOPICS = ['a', 'b', 'c', 'd'] as const
type Topic = (typeof TOPICS)[number]

export type Op =
  | { kind: 'publish'; count: number; topic: Topic | undefined }
  | { kind: 'leave'; client: number }
  | { kind: 'reconnect'; client: number; paused: boolean }
  | { kind: 'pause'; client: number }
  | { kind: 'resume'; client: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('publish' as const),
      count: fc.integer({ min: 1, max: 40 }),
      topic: fc.constantFrom(...TOPICS, undefined),
    }),
  },
  ...(['leave', 'pause', 'resume'] as const).map((kind) => ({
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant(kind), client: fc.nat(CLIENTS - 1) }),
  })),
  {
    weight: 2,
    // A client that reconnects without reading makes its replay wait for drain while live
    // events keep arriving: the hard case for a gap-free switch.
    arbitrary: fc.record({
      kind: fc.constant('reconnect' as const),
      client: fc.nat(CLIENTS - 1),
      paused: fc.boolean(),
    }),
  },
)

/** What a client saw, over all its connections: events, and the targets it was told it lost. */
type Seen = { data: string } | { lost: string[] }

interface Model {
  topics: Topic[]
  seen: Seen[]
  lastId: string | undefined
  connection: RecordingClient | undefined
  /** Per target ('*' or a topic), everything published to it since the client first connected. */
  expected: Map<string, string[]>
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0))

async function connect(hub: Hub, model: Model, paused = false): Promise<void> {
  const connection = new RecordingClient(model.lastId)
  connection.paused = paused
  // A small window, so paused clients make the replay wait for drain while events arrive.
  connection.highWaterMark = 512
  model.connection = connection
  await openStream(connection.connection(), { hub, topics: model.topics })
}

function harvest(model: Model): void {
  const connection = model.connection
  if (!connection) return
  for (const frame of connection.text.split('\n\n')) {
    const event = /^event: (.*)$/m.exec(frame)?.[1]
    const data = /^data: (.*)$/m.exec(frame)?.[1]
    const id = /^id: (.*)$/m.exec(frame)?.[1]
    if (id !== undefined) model.lastId = id
    if (event === 'history-lost') {
      const lost = JSON.parse(data!).lost as { topic?: string }[]
      model.seen.push({ lost: lost.map((target) => target.topic ?? '*') })
    } else if (data) model.seen.push({ data })
  }
  connection.leave()
  model.connection = undefined
}

/**
 * Checks one client: per target, what it got is in publish order with no duplicate; an event
 * it never got is only allowed after it was told that target lost history; the end is complete.
 */
function check(model: Model): number {
  let missing = 0
  for (const [target, expected] of model.expected) {
    let at = -1
    let told = false
    for (const item of model.seen) {
      if ('lost' in item) {
        told ||= item.lost.includes(target)
        continue
      }
      if (!item.data.startsWith(`${target}:`)) continue
      const index = expected.indexOf(item.data)
      expect(index, `${item.data} in order, once`).toBeGreaterThan(at)
      if (index > at + 1) {
        expect(told, `${target} lost before ${item.data}`).toBe(true)
        missing += index - at - 1
      }
      at = index
      told = false
    }
    expect(at, `every event of ${target} delivered at the end`).toBe(expected.length - 1)
  }
  return missing
}

/** A store answering every read and follow a little later, as a remote one does. */
export function asyncStore(inner: EventStore): EventStore {
  const later = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), 1))
  return {
    epoch: async () => later(await inner.epoch()),
    append: async (inputs) => inner.append(inputs),
    broadcast: (inputs) => inner.broadcast(inputs),
    read: async (log, after) => later(await inner.read(log, after)),
    head: async (log) => later(await inner.head(log)),
    follow: async (log) => later(await inner.follow(log)),
    unfollow: (log) => inner.unfollow(log),
    subscribe: (listener, onGap) => inner.subscribe(listener, onGap),
    compare: (a, b) => inner.compare(a, b),
  }
}

/** Retention bookkeeping sabotaged: a read never reports what was trimmed. */
export function forgetfulStore(inner: EventStore): EventStore {
  const store = asyncStore(inner)
  return {
    ...store,
    read: async (log, after): Promise<LogReplay> => ({
      ...(await inner.read(log, after)),
      lost: false,
    }),
  }
}

/** What the runs of a property did, for its report. */
export interface ResumeTotals {
  events: number
  reconnects: number
  missing: number
}

/** Runs one sequence of steps on a hub over `store`, and checks every client. */
export async function runResumeSteps(
  ops: Op[],
  store: EventStore,
  totals: ResumeTotals,
): Promise<void> {
  const hub = createHub({ store, heartbeat: false })
  let n = 0
  const models: Model[] = Array.from({ length: CLIENTS }, (_, i) => ({
    topics: [TOPICS[i % 4]!, ...(i >= 4 ? [TOPICS[(i + 1) % 4]!] : [])],
    seen: [],
    lastId: undefined,
    connection: undefined,
    expected: new Map(),
  }))
  for (const model of models) {
    for (const target of ['*', ...model.topics]) model.expected.set(target, [])
    await connect(hub, model)
  }
  const publishers: Promise<unknown>[] = []
  for (const step of ops) {
    const model = step.kind === 'publish' ? undefined : models[step.client]!
    switch (step.kind) {
      case 'publish':
        // Fire without awaiting, so publishes land while replays are running.
        for (let i = 0; i < step.count; i++) {
          const target = step.topic ?? '*'
          const data = `${target}:${n++}`
          for (const m of models) m.expected.get(target)?.push(data)
          publishers.push(hub.publish({ data }, { topic: step.topic }))
        }
        break
      case 'leave':
        harvest(model!)
        break
      case 'reconnect':
        harvest(model!)
        totals.reconnects++
        await connect(hub, model!, step.paused)
        break
      case 'pause':
        if (model!.connection) model!.connection.paused = true
        break
      case 'resume':
        model!.connection?.resume()
        break
    }
    await tick()
  }
  await Promise.all(publishers)
  totals.events += n
  for (const model of models) {
    harvest(model)
    await connect(hub, model)
    // Read until nothing more comes: the replay waits for drain between writes.
    for (let length = -1, i = 0; i < 200 && model.connection!.text.length !== length; i++) {
      length = model.connection!.text.length
      model.connection!.resume()
      await tick()
      await tick()
    }
    harvest(model)
    totals.missing += check(model)
  }
}

/** Sequences of 50 to 120 steps. */
export const resumeSteps = fc.array(op, { minLength: 50, maxLength: 120 })
