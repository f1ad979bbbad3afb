import type { HeaderPairs, HeaderValue } from './connection'
import { HTTP2_FORBIDDEN_HEADERS } from './head'

/** Headers to send with a stream: a `Headers` object, name/value pairs, or a plain object. */
export type HeadersInput =
  | Headers
  | Iterable<readonly [string, string]>
  | Record<string, HeaderValue | undefined>

/**
 * The application's headers as pairs, one per name, without those HTTP/2 forbids when the
 * stream is HTTP/2. Repeated `Set-Cookie` values become one list (a `Headers` object yields
 * them one by one, and setting each on a Node response would keep only the last).
 */
export function headerPairs(headers: HeadersInput | undefined, http2: boolean): HeaderPairs {
  if (!headers) return []
  const entries: Iterable<readonly [string, HeaderValue | undefined]> =
    Symbol.iterator in headers
      ? (headers as Iterable<readonly [string, string]>)
      : Object.entries(headers as Record<string, HeaderValue | undefined>)
  const pairs: HeaderPairs = []
  const cookies: string[] = []
  for (const [name, value] of entries) {
    if (value === undefined) continue
    const lower = name.toLowerCase()
    if (http2 && (HTTP2_FORBIDDEN_HEADERS as readonly string[]).includes(lower)) continue
    if (lower !== 'set-cookie') pairs.push([name, value])
    else if (typeof value === 'object') cookies.push(...value)
    else cookies.push(String(value))
  }
  if (cookies.length > 0) pairs.unshift(['set-cookie', cookies])
  return pairs
}
