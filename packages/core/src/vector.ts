/**
 * The `id` of an event on a hub stream is a cursor over every log the stream follows (C28):
 * `<layout>.<epoch>.<position>.<position>…`, one position per log in the stream's sorted log
 * list (empty for a log that had no event yet). `layout` is a hash of that list, so a cursor
 * presented with another membership is not applied to the wrong logs; `epoch` is the store's,
 * so a cursor from a store that lost its history is not read as a position in the new one.
 * Streams that follow the same logs and are caught up hold the same cursor: an event is encoded
 * once per layout, not once per stream.
 */

/** A hash of a stream's log list: 32-bit FNV-1a, in base 36. */
export function layoutOf(logs: readonly string[]): string {
  let hash = 0x811c9dc5
  for (const log of logs) {
    for (let i = 0; i < log.length; i++) {
      hash ^= log.charCodeAt(i)
      hash = Math.imul(hash, 0x01000193)
    }
    // A separator that no name can forge: 0x10000 is outside UTF-16 code units.
    hash ^= 0xffff
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0).toString(36)
}

/** The cursor of a stream whose logs are at these positions. */
export function encodeVector(
  layout: string,
  epoch: string,
  positions: readonly (string | undefined)[],
): string {
  let out = `${layout}.${epoch}`
  for (const position of positions) out += `.${position ?? ''}`
  return out
}

/**
 * The positions a cursor holds for a stream with this layout, or undefined when the cursor is
 * not one (another layout, another epoch, another number of logs, or not a cursor at all). The
 * positions are client input: stores must treat them as untrusted strings.
 */
export function decodeVector(
  id: string,
  layout: string,
  epoch: string,
  count: number,
): (string | undefined)[] | undefined {
  const parts = id.split('.', count + 3)
  if (parts.length !== count + 2 || parts[0] !== layout || parts[1] !== epoch) return undefined
  const positions: (string | undefined)[] = []
  for (let i = 2; i < parts.length; i++) positions.push(parts[i] || undefined)
  return positions
}
