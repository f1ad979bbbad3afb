import type { Serializer } from './types'

/** The fields {@link encodeEvent} accepts, untyped. */
export interface EventFields {
  data?: unknown
  event?: string
  id?: string | number
  retry?: number
  comment?: string
}

/** Options of {@link encodeEvent}. */
export interface EncodeOptions {
  /**
   * Turns non-string data into text.
   * @default JSON.stringify
   */
  serialize?: Serializer
}

const LINE_BREAK = /\r\n|\r|\n/
const HAS_LINE_BREAK = /[\r\n]/
const HAS_ID_FORBIDDEN = /[\r\n\0]/

function fieldError(field: string, problem: string): TypeError {
  return new TypeError(`Invalid SSE field "${field}": ${problem}`)
}

/**
 * Serializes a data value to the text sent on the wire, naming the field when it cannot.
 * Strings are sent as they are.
 */
export function serializeData(data: unknown, serialize: Serializer = JSON.stringify): string {
  if (typeof data === 'string') return data
  let text: unknown
  try {
    text = serialize(data)
  } catch (error) {
    throw fieldError('data', `could not be serialized (${(error as Error).message})`)
  }
  if (typeof text !== 'string') {
    throw fieldError('data', `the serializer returned ${typeof text}, not a string`)
  }
  return text
}

/** Checks an event name (C08); returns it, or undefined when empty (an empty name is omitted). */
export function checkEventName(event: unknown): string | undefined {
  if (event === undefined || event === '') return undefined
  if (typeof event !== 'string') throw fieldError('event', `expected a string, got ${typeof event}`)
  if (HAS_LINE_BREAK.test(event)) throw fieldError('event', 'must not contain CR or LF')
  return event
}

/** Checks an event id (C08): no CR, LF or NUL; numbers must be non-negative safe integers. */
export function checkId(id: unknown): string | undefined {
  if (id === undefined) return undefined
  if (typeof id === 'number') {
    if (!Number.isSafeInteger(id) || id < 0) {
      throw fieldError('id', `a number id must be a non-negative safe integer, got ${id}`)
    }
    return String(id)
  }
  if (typeof id !== 'string')
    throw fieldError('id', `expected a string or number, got ${typeof id}`)
  if (HAS_ID_FORBIDDEN.test(id)) throw fieldError('id', 'must not contain CR, LF or NUL')
  return id
}

/** Checks a reconnection delay (C09): a non-negative safe integer. */
export function checkRetry(retry: unknown): number | undefined {
  if (retry === undefined) return undefined
  if (typeof retry !== 'number' || !Number.isSafeInteger(retry) || retry < 0) {
    throw fieldError('retry', `expected a non-negative integer, got ${String(retry)}`)
  }
  return retry
}

/** Writes `name: line` for each line of `text`; empty lines become a bare `name:` (C07, C12). */
function fieldLines(name: string, text: string): string {
  if (!HAS_LINE_BREAK.test(text)) return text === '' ? `${name}:\n` : `${name}: ${text}\n`
  let out = ''
  for (const line of text.split(LINE_BREAK))
    out += line === '' ? `${name}:\n` : `${name}: ${line}\n`
  return out
}

/**
 * Encodes a comment as one or more `:` lines (C10). A multi-line comment becomes several
 * comment lines; the result is not followed by a blank line.
 */
function commentLines(text: unknown): string {
  if (typeof text !== 'string') throw fieldError('comment', `expected a string, got ${typeof text}`)
  return fieldLines('', text)
}

/**
 * Encodes a comment frame: `: text` lines followed by a blank line, ready to write.
 *
 * @throws TypeError naming the `comment` field when `text` is not a string.
 * @example
 * ```ts
 * encodeComment('keep-alive') // ': keep-alive\n\n'
 * ```
 */
export function encodeComment(text: string): string {
  return `${commentLines(text)}\n`
}

/**
 * Encodes one event as the exact text to write on a `text/event-stream`, ending with the
 * blank line that dispatches it (C07-C13).
 *
 * - `data` strings are split on CRLF, CR and LF into one `data:` line each; other values
 *   go through `options.serialize` first (default `JSON.stringify`).
 * - An event with a name but no data gets an empty `data:` line, so browsers dispatch it.
 * - Invalid `event`, `id`, `retry` or `comment` values throw a `TypeError` naming the field.
 *
 * @example
 * ```ts
 * encodeEvent({ event: 'tick', data: { n: 1 }, id: '7' })
 * // 'event: tick\nid: 7\ndata: {"n":1}\n\n'
 * ```
 */
export function encodeEvent(fields: EventFields, options?: EncodeOptions): string {
  if (fields === null || typeof fields !== 'object') {
    throw new TypeError(
      `Invalid SSE event: expected an object, got ${fields === null ? 'null' : typeof fields}`,
    )
  }
  let out = fields.comment === undefined ? '' : commentLines(fields.comment)
  const event = checkEventName(fields.event)
  if (event !== undefined) out += `event: ${event}\n`
  const id = checkId(fields.id)
  if (id !== undefined) out += id === '' ? 'id:\n' : `id: ${id}\n`
  const retry = checkRetry(fields.retry)
  if (retry !== undefined) out += `retry: ${retry}\n`
  if (fields.data !== undefined) {
    out += fieldLines('data', serializeData(fields.data, options?.serialize))
  } else if (event !== undefined) {
    out += 'data:\n'
  }
  if (out === '') throw new TypeError('Invalid SSE event: it has no field to send')
  return `${out}\n`
}
