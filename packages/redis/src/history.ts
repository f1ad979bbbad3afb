import type { StoredEvent } from '@sse/core'
import type { Redis } from 'ioredis'
import { compareIds } from './ids'

/** What a stream has, as `XINFO STREAM` tells it. */
export interface StreamInfo {
  /** The id of the newest entry ever added (`last-generated-id`). */
  last: string
  /** The newest id removed from the stream (trimmed or deleted): a cursor before it missed it. */
  trimmed: string
  /** The stream's first entry ever, when known: a cursor before it is not from this stream. */
  origin: string | undefined
}

/** An entry as XRANGE and XREAD return it. */
export type Entry = [id: string, fields: string[]]

const EMPTY: StreamInfo = { last: '0-0', trimmed: '0-0', origin: undefined }

/** An entry as the event it stores. */
export function toEvent([id, fields]: Entry): StoredEvent {
  const event: { -readonly [K in keyof StoredEvent]: StoredEvent[K] } = { id, data: '' }
  for (let i = 0; i + 1 < fields.length; i += 2) {
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
    }
  }
  return event
}

export function parseInfo(reply: unknown): StreamInfo {
  const fields = reply as unknown[]
  const info = new Map<string, unknown>()
  for (let i = 0; i + 1 < fields.length; i += 2) info.set(String(fields[i]), fields[i + 1])
  const last = String(info.get('last-generated-id') ?? '0-0')
  const first = info.get('first-entry') as Entry | null | undefined
  // The first entry's predecessor is the newest trimmed id; entries added by another writer
  // have no `p`, and then only the first entry itself is known to be retained.
  let trimmed = first ? (fieldOf(first[1], 'p') ?? first[0]) : last
  const deleted = info.get('max-deleted-entry-id') // Redis 7+: XDEL
  if (typeof deleted === 'string' && compareIds(deleted, trimmed) > 0) trimmed = deleted
  const origin = first ? fieldOf(first[1], 'o') : undefined
  return { last, trimmed, origin: origin === '' ? first![0] : origin }
}

export function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1]
  return undefined
}

export function missing(error: unknown): StreamInfo {
  if (error instanceof Error && /no such key/i.test(error.message)) return EMPTY
  throw error
}

/** One replay page after `from` and, atomically with it, what the stream has trimmed. */
export async function readPage(
  client: Redis,
  key: string,
  from: string,
  batch: number,
): Promise<[StreamInfo, Entry[]]> {
  const replies = await client
    .multi()
    .call('XINFO', 'STREAM', key)
    .xrange(key, `(${from}`, '+', 'COUNT', batch)
    .exec()
  if (!replies) throw new Error('MULTI was aborted')
  const [[infoError, info], [rangeError, entries]] = replies as [
    [Error | null, unknown],
    [Error | null, Entry[]],
  ]
  if (rangeError) throw rangeError
  return [infoError ? missing(infoError) : parseInfo(info), entries]
}

/** What the stream has now, or an empty stream when there is no such key. */
export function readInfo(client: Redis, key: string): Promise<StreamInfo> {
  return client.call('XINFO', 'STREAM', key).then(parseInfo, missing)
}
