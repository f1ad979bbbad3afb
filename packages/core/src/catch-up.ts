import { type Bytes, toBytes } from './bytes'
import { encodeEvent } from './encoder'
import { CURSOR_EVENT } from './head'
import { isTerminal } from './logs'
import type { Member } from './members'
import type { StoredEvent } from './store'
import { streamInternals as internals } from './stream'
import { encodeVector } from './vector'

/** What a stream that is not caught up with its hub needs from it. */
export interface Behind {
  epoch: string
  compare(a: string, b: string): number
  /** The hub's position of a followed log. */
  position(log: string): string | undefined
}

/**
 * Moves a stream's own positions past an event and encodes the frame it gets, with its own
 * cursor; undefined when the stream must not get it (sent already, or for another key).
 */
export function frameBehind(member: Member, event: StoredEvent, behind: Behind): Bytes | undefined {
  const vector = member.vector!
  if (event.position !== undefined) {
    const i = member.layout.logs.indexOf(event.log)
    const mine = vector[i]
    if (mine !== undefined && behind.compare(event.position, mine) <= 0) return undefined
    vector[i] = event.position
  }
  if (event.key !== undefined && event.key !== member.key) return undefined
  const id =
    event.position === undefined ? undefined : encodeVector(member.layout.tag, behind.epoch, vector)
  return toBytes(encodeEvent({ event: event.event, id, data: event.data }))
}

/** Once a stream's positions are the hub's, it shares its layout's frames again. */
export function rejoin(member: Member, behind: Behind): void {
  const { logs } = member.layout
  for (let i = 0; i < logs.length; i++) {
    if (member.vector![i] !== behind.position(logs[i]!)) return
  }
  member.vector = undefined
}

/**
 * Sends a joining stream the replayed events, then the live events held back meanwhile, then
 * switches it to live, with no gap and no duplicate (C20, C28): a live event at or before the
 * stream's position in its log is one the replay already sent. Waits for the client to drain
 * between writes, so a large replay never floods memory.
 *
 * @param heads - the positions the replay ran up to, per log of the stream's layout
 */
export async function catchUp(
  member: Member,
  replayed: readonly StoredEvent[],
  heads: readonly (string | undefined)[],
  behind: Behind,
): Promise<void> {
  const { stream } = member
  const send = async (event: StoredEvent) => {
    const frame = frameBehind(member, event, behind)
    if (!frame) return
    if (isTerminal(event)) {
      internals.write(stream, frame)
      internals.end(stream, 'done')
    } else if (!internals.write(stream, frame)) await stream.drain()
  }
  for (const event of replayed) {
    if (stream.closed) return
    await send(event)
  }
  if (stream.closed) return
  // Logs that lost history and had nothing left to replay are still unknown in the last id
  // sent: give the client its whole cursor, or its next resume would report the loss again.
  if (replayed.length > 0 && member.vector!.some((position, i) => position !== heads[i])) {
    const id = encodeVector(member.layout.tag, behind.epoch, heads)
    if (!internals.write(stream, toBytes(encodeEvent({ event: CURSOR_EVENT, id })))) {
      await stream.drain()
    }
  }
  member.vector = [...heads]
  while (member.pending && member.pending.length > 0) {
    const batch = member.pending
    member.pending = []
    for (const event of batch) {
      if (stream.closed) return
      await send(event)
    }
  }
  member.pending = undefined
  rejoin(member, behind)
}
