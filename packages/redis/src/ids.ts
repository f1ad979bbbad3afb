const STREAM_ID = /^(?:0|[1-9][0-9]{0,19})-(?:0|[1-9][0-9]{0,19})$/
const MAX_PART = '18446744073709551615' // 2^64 - 1, the largest part Redis accepts
/** The largest stream id: nothing can come after it (`(` before it is an error in XRANGE). */
export const MAX_ID = `${MAX_PART}-${MAX_PART}`

/** True for a complete Redis stream id (`<ms>-<seq>`, no leading zeros) that Redis accepts. */
export function isStreamId(id: string): boolean {
  if (!STREAM_ID.test(id)) return false
  const dash = id.indexOf('-')
  return (
    compareDigits(id.slice(0, dash), MAX_PART) <= 0 &&
    compareDigits(id.slice(dash + 1), MAX_PART) <= 0
  )
}

/** Compares two unsigned decimal strings without leading zeros. */
function compareDigits(x: string, y: string): number {
  return x.length - y.length || (x < y ? -1 : x > y ? 1 : 0)
}

/**
 * Orders two stream ids by time part, then sequence part, as Redis does. Strings that are not
 * stream ids fall back to code-unit order, so the result is still a total order.
 */
export function compareIds(a: string, b: string): number {
  const i = a.indexOf('-')
  const j = b.indexOf('-')
  if (i < 1 || j < 1) return a < b ? -1 : a > b ? 1 : 0
  return (
    compareDigits(a.slice(0, i), b.slice(0, j)) || compareDigits(a.slice(i + 1), b.slice(j + 1))
  )
}
