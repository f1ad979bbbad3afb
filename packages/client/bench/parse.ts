/**
 * Parsing throughput in Node: the same 100 MB event stream, in 64 KiB chunks from memory (no
 * socket), read by `eventsource-parser` alone (TextDecoder + parser: the floor), by
 * `@sse/client` (its fetch loop over a Response whose body is those chunks; data read raw, then
 * as JSON), and by `@microsoft/fetch-event-source`. Repetitions alternate; medians in MB/s and
 * each contestant's time over the bare parser's.
 *
 *   node --import tsx packages/client/bench/parse.ts [megabytes=100] [reps=5]
 */
import { fetchEventSource } from '@microsoft/fetch-event-source'
import { createParser } from 'eventsource-parser'
import { connect } from '../src/index'
import { makeChunks, makeReaders } from './readers'

const [megabytes = 100, reps = 5] = process.argv.slice(2).map(Number)

const chunks = makeChunks(megabytes)
const bytes = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0)
const contestants = makeReaders({ createParser, fetchEventSource, connect }, chunks)

// fetch-event-source is browser-only: it reads `window` for its timers and removes a
// `document` listener when it ends, even with openWhenHidden. Stand-ins, for it alone.
;(globalThis as { window?: unknown }).window ??= globalThis
;(globalThis as { document?: unknown }).document ??= {
  hidden: false,
  addEventListener() {},
  removeEventListener() {},
}

const times: Record<string, number[]> = {}
let expected: number | undefined
for (let rep = 0; rep < reps; rep++) {
  for (const [name, run] of Object.entries(contestants)) {
    const started = performance.now()
    const events = await run()
    const ms = performance.now() - started
    expected ??= events
    if (events !== expected) throw new Error(`${name}: ${events} events, expected ${expected}`)
    const mine = times[name] ?? []
    times[name] = mine
    mine.push(ms)
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!
const floor = median(times['eventsource-parser alone']!)
console.log(
  `parsing ${(bytes / 1e6).toFixed(0)} MB (${expected} events of about 100 B) in Node ${process.version}, ${reps} reps, medians`,
)
for (const [name, values] of Object.entries(times)) {
  const ms = median(values)
  console.log(
    `  ${name.padEnd(30)} ${((bytes / 1e6 / ms) * 1000).toFixed(0).padStart(4)} MB/s  ${(ms / floor).toFixed(2)}x  (${values.map((v) => v.toFixed(0)).join(', ')} ms)`,
  )
}
