/**
 * Latency histogram with buckets 1% apart, so client processes send a few hundred numbers each
 * instead of every sample (100,000s at higher rates) and percentiles merge across processes.
 * The max is kept exactly.
 */

const GROWTH = 1.01
/** Below 10 µs everything lands in bucket 0 (loopback latency is never that small). */
const FLOOR_MS = 0.01

export interface Histogram {
  /** Bucket index → count. */
  counts: Record<number, number>
  total: number
  max: number
}

export function emptyHistogram(): Histogram {
  return { counts: {}, total: 0, max: 0 }
}

export function record(h: Histogram, ms: number): void {
  const bucket = ms <= FLOOR_MS ? 0 : Math.ceil(Math.log(ms / FLOOR_MS) / Math.log(GROWTH))
  h.counts[bucket] = (h.counts[bucket] ?? 0) + 1
  h.total++
  if (ms > h.max) h.max = ms
}

export function merge(histograms: Histogram[]): Histogram {
  const out = emptyHistogram()
  for (const h of histograms) {
    for (const [bucket, count] of Object.entries(h.counts)) {
      out.counts[Number(bucket)] = (out.counts[Number(bucket)] ?? 0) + count
    }
    out.total += h.total
    out.max = Math.max(out.max, h.max)
  }
  return out
}

/** The upper edge of the bucket holding the q-quantile (at most the exact max), in ms. */
export function quantile(h: Histogram, q: number): number | null {
  if (h.total === 0) return null
  const rank = Math.ceil(q * h.total)
  let seen = 0
  for (const bucket of Object.keys(h.counts)
    .map(Number)
    .sort((a, b) => a - b)) {
    seen += h.counts[bucket]!
    if (seen >= rank) return Math.min(h.max, FLOOR_MS * GROWTH ** bucket)
  }
  return h.max
}
