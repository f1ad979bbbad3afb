import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { MemoryStore } from '../src/memory-store'

const add = (store: MemoryStore, n: number, log = '*') =>
  Array.from({ length: n }, (_, i) => store.append([{ log, data: String(i) }])[0]!.position!)

describe('MemoryStore', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('assigns increasing printable-ASCII positions without dots (C22)', () => {
    const store = new MemoryStore()
    const ids = add(store, 50)
    expect(new Set(ids).size).toBe(50)
    for (const id of ids) expect(id).toMatch(/^[\x21-\x2d\x2f-\x7e]+$/)
    for (let i = 1; i < ids.length; i++) expect(store.compare(ids[i - 1]!, ids[i]!)).toBeLessThan(0)
  })

  it('reads a log strictly after a position (C20)', () => {
    const store = new MemoryStore()
    const ids = add(store, 10)
    const { events, lost, head } = store.read('*', ids[6])
    expect(lost).toBe(false)
    expect(head).toBe(ids[9])
    expect(events.map((e) => e.position)).toEqual(ids.slice(7))
    expect(store.read('*', ids[9]).events).toEqual([])
  })

  it('keeps at most maxEvents per log and reports a trimmed position as lost (C21)', () => {
    const store = new MemoryStore({ maxEvents: 5 })
    const ids = add(store, 12)
    expect(store.size).toBe(5)
    expect(store.read('*', ids[6]).lost).toBe(false)
    expect(store.read('*', ids[6]).events.map((e) => e.position)).toEqual(ids.slice(7))
    const trimmed = store.read('*', ids[5])
    expect(trimmed.lost).toBe(true)
    expect(trimmed.events.map((e) => e.position)).toEqual(ids.slice(7))
  })

  it('keeps history per log: a busy log never trims a quiet one (C27)', () => {
    const store = new MemoryStore({ maxEvents: 10 })
    const [quiet] = add(store, 1, 'tquiet')
    add(store, 1000, 'tbusy')
    expect(store.read('tquiet', quiet)).toEqual({ events: [], lost: false, head: quiet })
    const busy = store.read('tbusy', '0')
    expect(busy.lost).toBe(true)
    expect(busy.events).toHaveLength(10)
  })

  it('bounds retained bytes per log', () => {
    const store = new MemoryStore({ maxBytes: 100 })
    for (let i = 0; i < 20; i++) store.append([{ log: '*', data: 'x'.repeat(30) }])
    store.append([{ log: 'ta', data: 'y'.repeat(30) }])
    expect(store.size).toBe(4)
  })

  it('drops events older than maxAge, and forgets a log whose events all expired', () => {
    vi.useFakeTimers({ now: 1_000_000 })
    const store = new MemoryStore({ maxAge: 1000 })
    const [first] = add(store, 3)
    const [idle] = add(store, 1, 'tidle')
    vi.setSystemTime(1_000_500)
    add(store, 2)
    vi.setSystemTime(1_001_200)
    const read = store.read('*', first)
    expect(read.lost).toBe(true)
    expect(read.events).toHaveLength(2)
    add(store, 1)
    expect(store.logs).toBe(1)
    // A cursor at the forgotten log's last event missed nothing of it...
    expect(store.read('tidle', idle).lost).toBe(false)
    // ...an older one may have.
    expect(store.read('tidle', first).lost).toBe(true)
  })

  it('gives a log without events a position, and a cursor at it misses nothing', () => {
    const store = new MemoryStore()
    add(store, 3)
    const head = store.follow('tnew')
    add(store, 2, 'tnew')
    const read = store.read('tnew', head)
    expect(read).toMatchObject({ lost: false })
    expect(read.events.map((e) => e.data)).toEqual(['0', '1'])
  })

  it('treats unknown, malformed and future positions as lost (C21)', () => {
    const store = new MemoryStore()
    const ids = add(store, 3)
    for (const cursor of [undefined, 'nope', '-1', '01', 'zzzzzzzzzzzzzz', `${ids[2]}0`]) {
      const read = store.read('*', cursor)
      expect(read.lost).toBe(true)
      expect(read.events).toHaveLength(3)
    }
  })

  it('answers any string as a position without throwing, within the log retention', () => {
    const store = new MemoryStore({ maxEvents: 20 })
    add(store, 50)
    fc.assert(
      fc.property(fc.string(), fc.string(), (log, after) => {
        const read = store.read(log, after)
        expect(read.events.length).toBeLessThanOrEqual(20)
        expect(typeof read.head).toBe('string')
      }),
    )
  })

  it('changes epoch on restart: the old cursors are recognised as unusable (C22)', () => {
    expect(new MemoryStore().epoch()).not.toBe(new MemoryStore().epoch())
    expect(new MemoryStore().epoch()).toMatch(/^[0-9a-z]+$/)
  })

  it('feeds subscribers in order, stored or broadcast, and unsubscribes', () => {
    const store = new MemoryStore()
    const seen: string[] = []
    const off = store.subscribe((e) => seen.push(`${e.data}@${e.position}`))
    add(store, 2)
    store.broadcast([{ log: '*', data: 'live' }])
    off()
    add(store, 1)
    expect(seen).toEqual(['0@1', '1@2', 'live@undefined'])
    expect(store.size).toBe(3)
  })

  it('compacts its history without losing order', () => {
    const store = new MemoryStore({ maxEvents: 10 })
    const ids = add(store, 5000)
    expect(store.read('*', ids[4989]).events.map((e) => e.position)).toEqual(ids.slice(4990))
  })

  it('rejects negative and non-numeric retention with a RangeError naming it', () => {
    expect(() => new MemoryStore({ maxEvents: -1 })).toThrow(/maxEvents/)
    expect(() => new MemoryStore({ maxAge: Number.NaN })).toThrow(/maxAge/)
  })
})
