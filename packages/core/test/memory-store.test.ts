import { afterEach, describe, expect, it, vi } from 'vitest'
import { MemoryStore } from '../src/memory-store'

const add = (store: MemoryStore, n: number) =>
  Array.from({ length: n }, (_, i) => store.append({ data: String(i) }).id)

describe('MemoryStore', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('assigns increasing printable-ASCII ids (C22)', () => {
    const store = new MemoryStore()
    const ids = add(store, 50)
    expect(new Set(ids).size).toBe(50)
    for (const id of ids) expect(id).toMatch(/^[\x21-\x7e]+$/)
    for (let i = 1; i < ids.length; i++) expect(store.compare(ids[i - 1]!, ids[i]!)).toBeLessThan(0)
  })

  it('replays strictly after a cursor (C20)', () => {
    const store = new MemoryStore()
    const ids = add(store, 10)
    const { events, lost } = store.replay(ids[6])
    expect(lost).toBe(false)
    expect(events.map((e) => e.id)).toEqual(ids.slice(7))
    expect(store.replay(ids[9]).events).toEqual([])
  })

  it('keeps at most maxEvents and reports a trimmed cursor as lost (C21)', () => {
    const store = new MemoryStore({ maxEvents: 5 })
    const ids = add(store, 12)
    expect(store.size).toBe(5)
    expect(store.replay(ids[6]).lost).toBe(false)
    expect(store.replay(ids[6]).events.map((e) => e.id)).toEqual(ids.slice(7))
    const trimmed = store.replay(ids[5])
    expect(trimmed.lost).toBe(true)
    expect(trimmed.events.map((e) => e.id)).toEqual(ids.slice(7))
  })

  it('bounds retained bytes', () => {
    const store = new MemoryStore({ maxBytes: 100 })
    for (let i = 0; i < 20; i++) store.append({ data: 'x'.repeat(30) })
    expect(store.size).toBe(3)
  })

  it('drops events older than maxAge', () => {
    vi.useFakeTimers({ now: 1_000_000 })
    const store = new MemoryStore({ maxAge: 1000 })
    const [first] = add(store, 3)
    vi.setSystemTime(1_000_500)
    add(store, 2)
    vi.setSystemTime(1_001_200)
    const replay = store.replay(first)
    expect(replay.lost).toBe(true)
    expect(replay.events).toHaveLength(2)
  })

  it('treats unknown, malformed and foreign cursors as lost (C21)', () => {
    const store = new MemoryStore()
    add(store, 3)
    for (const cursor of [
      undefined,
      'nope',
      '1',
      `${'x'}-1`,
      `${store.replay(undefined).events[0]!.id}0000`,
    ]) {
      const replay = store.replay(cursor)
      expect(replay.lost).toBe(true)
      expect(replay.events).toHaveLength(3)
    }
  })

  it('never reuses an id after a restart: the old cursor is reported lost (C22)', () => {
    const before = new MemoryStore()
    const old = add(before, 5)
    const after = new MemoryStore()
    const fresh = add(after, 5)
    for (const id of fresh) expect(old).not.toContain(id)
    expect(after.replay(old[4]).lost).toBe(true)
  })

  it('an empty store knows its latest id is up to date', () => {
    const store = new MemoryStore({ maxAge: 1 })
    const [id] = add(store, 1)
    expect(store.replay(id)).toEqual({ events: [], lost: false })
  })

  it('feeds subscribers in order and unsubscribes', () => {
    const store = new MemoryStore()
    const seen: string[] = []
    const off = store.subscribe((e) => seen.push(e.data))
    add(store, 3)
    off()
    add(store, 1)
    expect(seen).toEqual(['0', '1', '2'])
  })

  it('compacts its history without losing order', () => {
    const store = new MemoryStore({ maxEvents: 10 })
    const ids = add(store, 5000)
    expect(store.replay(ids[4989]).events.map((e) => e.id)).toEqual(ids.slice(4990))
  })
})
