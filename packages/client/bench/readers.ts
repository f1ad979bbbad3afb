/**
 * What both parse benches time (parse.ts in Node, parse-browser.ts in Chromium): the same event
 * stream of about 100 B an event in 64 KiB chunks from memory (no socket), and the readers of
 * it. The libraries are passed in: Node imports them, the Chromium bench bundles them.
 */
import type { fetchEventSource } from '@microsoft/fetch-event-source'
import type { createParser } from 'eventsource-parser'
import type { connect } from '../src/index'

export const READERS = [
  'eventsource-parser alone',
  '@sse/client, raw',
  '@sse/client, raw, for await',
  '@sse/client, JSON',
  '@microsoft/fetch-event-source',
] as const
export type Reader = (typeof READERS)[number]

export interface Libraries {
  createParser: typeof createParser
  fetchEventSource: typeof fetchEventSource
  connect: typeof connect
}

/** About `megabytes` of events of about 100 bytes, as a token or tick stream has them. */
export function makeChunks(megabytes: number): Uint8Array[] {
  const chunks: Uint8Array[] = []
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
  return chunks
}

/** Each reader as a function that reads the whole stream once and returns its event count. */
export function makeReaders(
  { createParser, fetchEventSource, connect }: Libraries,
  chunks: readonly Uint8Array[],
): Record<Reader, () => Promise<number>> {
  const body = (): ReadableStream<Uint8Array> => {
    let i = 0
    return new ReadableStream({
      pull(controller) {
        if (i < chunks.length) controller.enqueue(chunks[i++]!)
        else controller.close()
      },
    })
  }
  const response = () => new Response(body(), { headers: { 'content-type': 'text/event-stream' } })

  const viaClient = async (raw: boolean, iterate = false): Promise<number> => {
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

  return {
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
}
