/**
 * The longest `Last-Event-ID` accepted, in characters; longer values are treated as unknown. A
 * hub cursor holds a position per log the stream follows: 4096 leaves room for about 300 topics.
 */
export const MAX_CURSOR_LENGTH = 4096

/** Where a stream resumes from, read from the request (C19). */
export interface Cursor {
  /** The valid id the client last saw, or undefined when it sent none or an unusable one. */
  id: string | undefined
  /** True when the client sent a cursor that is malformed or too long (it counts as unknown). */
  invalid: boolean
}

const NO_CURSOR: Cursor = { id: undefined, invalid: false }
const INVALID_CURSOR: Cursor = { id: undefined, invalid: true }
// Ids this toolkit hands out are printable ASCII; anything else cannot be one of ours.
const VALID_ID = /^[\x20-\x7e]+$/

function check(value: string): Cursor {
  if (value.length > MAX_CURSOR_LENGTH || !VALID_ID.test(value)) return INVALID_CURSOR
  return { id: value, invalid: false }
}

function fromQuery(url: string | undefined, param: string | false): string | undefined {
  if (param === false || url === undefined) return undefined
  const start = url.indexOf('?')
  if (start === -1) return undefined
  return new URLSearchParams(url.slice(start + 1)).get(param) ?? undefined
}

/**
 * Reads the resume cursor: the `Last-Event-ID` header, else the query parameter `param`
 * (for clients that cannot set headers). The header wins when both are present. Values over
 * {@link MAX_CURSOR_LENGTH} characters or with characters outside printable ASCII are reported
 * as invalid, never thrown.
 *
 * @param header - the raw `Last-Event-ID` header value, if any
 * @param url - the request URL or path with its query string
 * @param param - the query parameter name, or `false` to ignore the query
 */
export function readCursor(
  header: string | string[] | null | undefined,
  url: string | undefined,
  param: string | false = 'lastEventId',
): Cursor {
  const value = Array.isArray(header) ? header[0] : header
  if (value) return check(value)
  const query = fromQuery(url, param)
  return query ? check(query) : NO_CURSOR
}
