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

const [megabytes = 100, reps = 5] = process.argv.slice(2).map(Number)

// Events of about 100 bytes, as a token or tick stream has them.
const chunks: Uint8Array[] = []
{
  const encoder = new TextEncoder()
  let n = 0
  let text = ''
  let total = 0
  while (total < megabytes * 1e6) {
    text += `id: ${n}\nevent: tick\ndata: {"n":${n},"text":"${'x'.repeat(40)}"}\n\n`
    n++
    if (text.length >= 65_536) {
      const bytes = encoder.encode(text)
      chunks.push(bytes)
      total += bytes.byteLength
      text = ''
    }
  }
  if (text) chunks.push(encoder.encode(text))
}
const bytes = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0)

function body(): ReadableStream<Uint8Array> {
  let i = 0
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!)
      else controller.close()
    },
  })
}

const response = () => new Response(body(), { headers: { 'content-type': 'text/event-stream' } })

const contestants: Record<string, () => Promise<number>> = {
  'eventsource-parser alone': async () => {
    let events = 0
    const parser = createParser({ onEvent: () => events++ })
    const decoder = new TextDecoder()
    const reader = body().getReader()
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      parser.feed(decoder.decode(next.value, { stream: true }))
    }
    return events
  },
  '@sse/client, raw': () => viaClient(true),
  '@sse/client, raw, for await': () => viaClient(true, true),
  '@sse/client, JSON': () => viaClient(false),
  '@microsoft/fetch-event-source': async () => {
    let events = 0
    await fetchEventSource('http://bench.invalid/', {
      fetch: async () => response(),
      openWhenHidden: true,
      onmessage: () => events++,
      onclose: () => {
        throw new Error('closed') // stop: its default reconnects
      },
      onerror: (error) => {
        throw error
      },
    }).catch(() => {})
    return events
  },
}

async function viaClient(raw: boolean, iterate = false): Promise<number> {
  let events = 0
  let served = false
  const stream = connect('http://bench.invalid/', {
    raw: raw ? true : [],
    // One response, then at once (no backoff) a 204: the client stops instead of reconnecting.
    minDelay: 0,
    maxDelay: 0,
    fetch: async () => {
      if (served) return new Response(null, { status: 204 })
      served = true
      return response()
    },
  })
  if (iterate) for await (const _ of stream) events++
  else stream.on('tick', () => events++)
  await stream.closed
  return events
}
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
