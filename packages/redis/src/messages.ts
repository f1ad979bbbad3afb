import type { EventInput, StoredEvent } from '@sse/core'
import { withFields } from './history'

/**
 * The feed channel's messages, JSON arrays:
 * - `[log, p, [position, field, value, ...], ...]`: a batch appended by the append script
 *   (`cjson`), one entry per event in log order; `p` is the position before the first one, and
 *   each further entry's is the position of the entry before it;
 * - `[log, '', '', field, value, ...]`: a broadcast event ({@link broadcastMessage}), which has
 *   no position. (One appended event in this shape, `[log, position, p, ...]`, is read too: the
 *   format of stores before batching, during a rolling upgrade.)
 */
export interface Message {
  /** The event; `position` undefined for a broadcast one. */
  event: StoredEvent
  /** The position before it in its log (empty for a broadcast). */
  p: string
}

/** The events of one feed message, in log order, each with the position before it. */
export function parseMessages(raw: string): Message[] {
  const parts = JSON.parse(raw) as unknown
  const bad = () => new TypeError(`not a feed message: ${raw.slice(0, 100)}`)
  if (!Array.isArray(parts)) throw bad()
  const [log, p, third] = parts
  if (typeof log !== 'string' || typeof p !== 'string') throw bad()
  if (!Array.isArray(third)) {
    if (typeof third !== 'string') throw bad()
    const event = withFields({ log, data: '', position: p || undefined }, parts as string[], 3)
    return [{ event, p: third }]
  }
  const out: Message[] = []
  let before = p
  for (let i = 2; i < parts.length; i++) {
    const entry = parts[i] as unknown
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') throw bad()
    const position = entry[0]
    out.push({ event: withFields({ log, data: '', position }, entry, 1), p: before })
    before = position
  }
  return out
}

/** The feed message of a broadcast event (no position, nothing before it). */
export function broadcastMessage(input: EventInput): string {
  return JSON.stringify([input.log, '', '', ...fields(input)])
}

/**
 * An event's fields in its stream entry: data, then its name, topic, key and trace context
 * (`c`) when it has them. Readers skip fields they do not know (a rolling upgrade).
 */
export function fields(input: EventInput): string[] {
  const out = ['d', input.data]
  if (input.event !== undefined) out.push('e', input.event)
  if (input.topic !== undefined) out.push('t', input.topic)
  if (input.key !== undefined) out.push('k', input.key)
  if (input.trace !== undefined) out.push('c', input.trace)
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
