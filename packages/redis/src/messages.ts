import type { EventInput, StoredEvent } from '@sse/core'
import { withFields } from './history'

/**
 * The feed channel's messages: the JSON array `[log, position, p, field, value, ...]`, made by
 * the append script (`cjson`) for an appended event, or by {@link broadcastMessage} with empty
 * positions for a broadcast one.
 */
export interface Message {
  /** The event; `position` undefined for a broadcast one. */
  event: StoredEvent
  /** The position before it in its log (empty for a broadcast). */
  p: string
}

export function parseMessage(raw: string): Message {
  const parts = JSON.parse(raw) as string[]
  const [log, id, p] = parts
  if (typeof log !== 'string' || typeof p !== 'string')
    throw new TypeError(`not a feed message: ${raw.slice(0, 100)}`)
  return { event: withFields({ log, data: '', position: id || undefined }, parts, 3), p }
}

export function broadcastMessage(input: EventInput): string {
  return JSON.stringify([input.log, '', '', ...fields(input)])
}

/** An event's fields in its stream entry: data, then its name, topic and key when it has them. */
export function fields(input: EventInput): string[] {
  const out = ['d', input.data]
  if (input.event !== undefined) out.push('e', input.event)
  if (input.topic !== undefined) out.push('t', input.topic)
  if (input.key !== undefined) out.push('k', input.key)
  return out
}

export function gapMessage(log: string, last: string, head: string, unknown: boolean): string {
  return unknown
    ? `log ${log} went back to ${head} from ${last}, which this process delivered: Redis lost ` +
        'data (restarted without persistence, or restored from an older snapshot); its streams ' +
        'resume from the store, and nothing older is replayed as live'
    : `events of log ${log} after ${last} were trimmed from Redis before this process read ` +
        'them: its streams resume from the store'
}
