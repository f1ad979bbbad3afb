import type { Layout } from './members'
import type { EventStore, StoredEvent } from './store'
import { decodeVector } from './vector'

/** Where a joining stream starts: what it missed and what it holds before and after that. */
export interface Start {
  /** Its logs' events after its cursor, in position order within each log. */
  replayed: StoredEvent[]
  /** The logs whose history it lost (C21, C27); undefined for a client without a cursor. */
  lost: string[] | undefined
  /** Its positions before the replay, per log of its layout (undefined where history was lost). */
  from: (string | undefined)[]
  /** Its positions once the replay is out. */
  heads: (string | undefined)[]
}

/** A client without a cursor starts where the hub's caught-up streams are (C34). */
export function startNew(layout: Layout, position: (log: string) => string | undefined): Start {
  const heads = layout.logs.map(position)
  return { replayed: [], lost: undefined, from: heads, heads }
}

/**
 * Reads what a resuming client missed: each log of its layout from the cursor's position for it
 * (C28). A cursor that is not one for this layout and epoch counts as lost in every log. Only
 * the layout's logs are read, whatever the cursor holds, and each read costs at most its log's
 * retention.
 */
export async function startFrom(
  store: EventStore,
  layout: Layout,
  epoch: string,
  cursor: string | undefined,
): Promise<Start> {
  const { logs } = layout
  const positions =
    cursor === undefined ? undefined : decodeVector(cursor, layout.tag, epoch, logs.length)
  const reads = await Promise.all(logs.map((log, i) => store.read(log, positions?.[i])))
  const lost: string[] = []
  const replayed: StoredEvent[] = []
  const from: (string | undefined)[] = []
  reads.forEach((read, i) => {
    if (read.lost) lost.push(logs[i]!)
    from.push(read.lost ? undefined : positions?.[i])
    for (const event of read.events) replayed.push(event)
  })
  // Position order within each log is kept; across logs, the store's order is as good as any.
  if (reads.filter((read) => read.events.length > 0).length > 1) {
    replayed.sort((a, b) => store.compare(a.position!, b.position!))
  }
  return { replayed, lost, from, heads: reads.map((read) => read.head) }
}

/**
 * A reader of a durable stream without a cursor (the response that started it, a reload that
 * lost its id) reads it from its first part: the stream's log keeps every part (C29).
 */
export async function startAtFirst(store: EventStore, layout: Layout): Promise<Start> {
  const read = await store.read(layout.logs[0]!, undefined)
  return { replayed: read.events, lost: [], from: [undefined], heads: [read.head] }
}
