import type { Connection, ConnectionEvents, Sink } from '@sse/core/adapter'

type Bytes = Uint8Array

/**
 * An in-process client for unit tests of stream and hub logic: it records every chunk and
 * can play a slow reader. Over-the-wire behaviour is covered by the conformance suite.
 */
export class RecordingClient implements Sink {
  chunks: (string | Bytes)[] = []
  /** When each chunk was written (performance.now()). */
  times: number[] = []
  head: { status: number; headers: Record<string, string> } | undefined
  ended = false
  destroyed = false
  /** Bytes queued while `paused`; write() reports backpressure above `highWaterMark`. */
  queued = 0
  paused = false
  highWaterMark = 16 * 1024
  events: ConnectionEvents | undefined
  readonly #decoder = new TextDecoder()

  constructor(
    readonly lastEventId?: string,
    readonly url = '/events',
  ) {}

  get bufferedBytes(): number {
    return this.queued
  }

  write(chunk: string | Bytes): boolean {
    this.chunks.push(chunk)
    this.times.push(performance.now())
    if (this.paused) this.queued += typeof chunk === 'string' ? chunk.length : chunk.byteLength
    return this.queued < this.highWaterMark
  }

  end(): void {
    this.ended = true
    queueMicrotask(() => this.events?.closed())
  }

  destroy(): void {
    this.destroyed = true
    queueMicrotask(() => this.events?.closed())
  }

  /** The client reads everything queued. */
  resume(): void {
    this.paused = false
    this.queued = 0
    this.events?.drained()
  }

  /** The client goes away. */
  leave(): void {
    this.events?.closed()
  }

  get text(): string {
    return this.chunks.map((c) => (typeof c === 'string' ? c : this.#decoder.decode(c))).join('')
  }

  /** Ids of the events received, in order. */
  get ids(): string[] {
    return [...this.text.matchAll(/^id: (.*)$/gm)].map((m) => m[1]!)
  }

  connection(): Connection {
    return {
      sink: this,
      http2: false,
      lastEventIdHeader: this.lastEventId,
      url: this.url,
      writeHead: (status, headers) => {
        this.head = { status, headers }
      },
      attach: (events) => {
        this.events = events
      },
    }
  }
}
