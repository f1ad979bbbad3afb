import { DONE_EVENT, ERROR_EVENT } from './head'
import type { Target } from './hub-options'
import type { StoredEvent } from './store'

/**
 * History is kept per log, so a quiet topic never loses history to a busy one (C27). An event
 * published to a topic goes to that topic's log (with or without a key: keyed events of a topic
 * are filtered per stream); to a key alone, to the key's log; to everyone, to the hub-wide log;
 * a durable stream's parts, to its own log. The first character keeps the kinds apart whatever
 * the names are.
 */
export const ALL_LOG = '*'

/** The log an event published to this target is kept in. */
export function logOf(topic: string | undefined, key: string | undefined): string {
  if (topic !== undefined) return `t${topic}`
  if (key !== undefined) return `k${key}`
  return ALL_LOG
}

/**
 * The logs a stream with this membership follows, sorted: the hub-wide log, its topics', and
 * its key's. Sorted, so the same membership always gives the same cursor layout.
 */
export function logsOf(topics: Iterable<string>, key: string | undefined): string[] {
  const logs = new Set([ALL_LOG])
  for (const topic of topics) logs.add(logOf(topic, undefined))
  if (key !== undefined) logs.add(logOf(undefined, key))
  return [...logs].sort()
}

/** The target whose events a log keeps, as the `history-lost` event names it. */
export function targetOf(log: string): Target {
  if (log.startsWith('t')) return { topic: log.slice(1) }
  if (log.startsWith('k')) return { key: log.slice(1) }
  return {}
}

/** The log of a durable stream's parts: a stream that reads it follows this log alone. */
export function durableLog(id: string): string {
  return `d${id}`
}

/** Whether an event ends its durable stream: the stream closes once it is sent (C29, C30). */
export function isTerminal(event: StoredEvent): boolean {
  return (
    (event.event === DONE_EVENT || event.event === ERROR_EVENT) && event.log.charCodeAt(0) === 100
  )
}

/** Whether streams of this log list read a durable stream (which is then their only log). */
export function isDurableLayout(layout: { logs: readonly string[] }): boolean {
  return layout.logs.length === 1 && layout.logs[0]!.charCodeAt(0) === 100
}
