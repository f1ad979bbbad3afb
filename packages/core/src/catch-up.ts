import type { Bytes } from './bytes'
import { eventMatches, type Member } from './members'
import type { StoredEvent } from './store'
import { streamInternals as internals } from './stream'

/**
 * Sends a joining stream the replayed events, then the live events held back meanwhile, then
 * switches it to live, with no gap and no duplicate (C20): a live event at or before the last
 * replayed id is one the replay already sent. Waits for the client to drain between writes, so a
 * large replay never floods memory.
 */
export async function catchUp(
  member: Member,
  replayed: readonly StoredEvent[],
  frame: (event: StoredEvent) => Bytes,
  compare: (a: string, b: string) => number,
): Promise<void> {
  const { stream } = member
  let floor: string | undefined
  const send = async (event: StoredEvent) => {
    if (floor !== undefined && compare(event.id, floor) <= 0) return
    floor = event.id
    if (eventMatches(member, event) && !internals.write(stream, frame(event))) await stream.drain()
  }
  for (const event of replayed) {
    if (stream.closed) return
    await send(event)
  }
  while (member.pending && member.pending.length > 0) {
    const batch = member.pending
    member.pending = []
    for (const event of batch) {
      if (stream.closed) return
      await send(event)
    }
  }
  member.pending = undefined
  member.floor = floor
}
