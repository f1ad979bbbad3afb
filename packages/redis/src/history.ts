import type { StoredEvent } from '@sse/core'
import type { Redis } from 'ioredis'
import { compareIds, isStreamId, MAX_ID } from './ids'
import type { LogKeys } from './keys'
import { readScript } from './scripts'

/** An entry as XRANGE returns it. */
export type Entry = [id: string, fields: string[]]

/** Most entries one read fetches at a time (the script's first page, then XRANGE pages). */
export const PAGE = 1000

/** How the store trims by age: maxAge in ms (-1: never), and the trim mode (`~` or `=`). */
export type AgeTrim = readonly [maxAge: number, mode: string]

/** What {@link readLog} found. */
export interface LogRead {
  /** The log's last position when it was read: the entries run up to it. */
  head: string
  entries: Entry[]
  /** Something after the position is gone, or the position is not one this log handed out. */
  lost: boolean
  /**
   * The position is not on the log's chain (after its head, or between two entries): a crafted
   * one, or the log went back (Redis lost data since the position was handed out).
   */
  unknown: boolean
}

/** An entry of a log as the event it stores. */
export function toEvent(log: string, [id, fields]: Entry): StoredEvent {
  return withFields({ log, data: '', position: id }, fields, 0)
}

/** Fills an event's fields from `name, value, ...` pairs starting at `from`. */
export function withFields(
  event: { -readonly [K in keyof StoredEvent]: StoredEvent[K] },
  fields: readonly string[],
  from: number,
): StoredEvent {
  for (let i = from; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1]!
    switch (fields[i]) {
      case 'd':
        event.data = value
        break
      case 'e':
        event.event = value
        break
      case 't':
        event.topic = value
        break
      case 'k':
        event.key = value
        break
      case 'c':
        event.trace = value
        break
    }
  }
  return event
}

export function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1]
  return undefined
}

/**
 * Reads a log after a position, which is untrusted: anything that is not a stream id, or is
 * after the head, or is not on the log's chain of `p` fields (a crafted id between two entries,
 * or a position from before Redis lost data), is lost, and then `all` reads every retained
 * entry instead (a read for a client; the live feed needs none). Otherwise the first entry's `p`
 * must be the position itself: a later one means entries after it were trimmed. Each further
 * entry must name the one before it (an entry deleted by hand breaks the chain). The work is
 * bounded by the log's retention, in pages of {@link PAGE}.
 */
export async function readLog(
  client: Redis,
  keys: LogKeys,
  after: string | undefined,
  trim: AgeTrim,
  all: boolean,
): Promise<LogRead> {
  const valid = after !== undefined && isStreamId(after) && after !== MAX_ID
  let [head, entries] = await page(client, keys, valid ? after : '', PAGE, trim)
  let lost = !valid
  let unknown = !valid
  if (valid) {
    // With no entry after it, the position must be the head itself.
    const p = entries.length > 0 ? fieldOf(entries[0]![1], 'p') : head
    if (compareIds(after, head) > 0 || (p !== undefined && compareIds(p, after) < 0)) unknown = true
    else if (p !== after) lost = true
  }
  if (unknown) {
    lost = true
    if (!all) return { head, entries: [], lost, unknown }
    if (valid) [head, entries] = await page(client, keys, '', PAGE, trim)
  }
  for (let last = entries; last.length === PAGE; ) {
    const from = last[PAGE - 1]![0]
    last = (await client.xrange(keys.stream, `(${from}`, head, 'COUNT', PAGE)) as Entry[]
    for (const entry of last) entries.push(entry)
  }
  for (let i = 1; i < entries.length && !lost; i++) {
    if (fieldOf(entries[i]![1], 'p') !== entries[i - 1]![0]) lost = true
  }
  return { head, entries, lost, unknown }
}

/** The log's head, trimmed by age first, without reading entries. */
export async function readHead(client: Redis, keys: LogKeys, trim: AgeTrim): Promise<string> {
  return (await page(client, keys, '', 0, trim))[0]
}

// A durable stream's log is never trimmed: it expires whole, with its record (durable.ts).
const NO_TRIM: AgeTrim = [-1, '=']

async function page(
  client: Redis,
  keys: LogKeys,
  after: string,
  count: number,
  trim: AgeTrim,
): Promise<[string, Entry[]]> {
  const [maxAge, mode] = keys.durable ? NO_TRIM : trim
  const reply = await readScript.run(client, [keys.stream, keys.meta], [after, count, maxAge, mode])
  return reply as [string, Entry[]]
}
