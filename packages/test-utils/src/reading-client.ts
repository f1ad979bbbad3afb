import { SseReader } from './sse-reader'
import type { ReceivedHeaders, StreamClient } from './stream-client'
import { waitFor } from './wait'

/**
 * What the HTTP/1.1 and HTTP/2 clients share: the parsed body (through {@link SseReader}) and
 * the waits on it. Each protocol's client feeds `reader` and sets `ended` and `closed`.
 */
export abstract class ReadingClient implements StreamClient {
  readonly headAt = Date.now()
  ended = false
  closed = false
  protected readonly reader = new SseReader()

  constructor(
    readonly status: number,
    readonly headers: ReceivedHeaders,
  ) {}

  get chunks() {
    return this.reader.chunks
  }
  bytes() {
    return this.reader.bytes()
  }
  text() {
    return this.reader.text()
  }
  events() {
    return this.reader.events
  }
  comments() {
    return this.reader.comments
  }
  retries() {
    return this.reader.retries
  }
  cursors() {
    return this.reader.cursors
  }
  waitForText(match: string | RegExp, timeoutMs?: number) {
    return this.reader.waitForText(match, timeoutMs)
  }
  waitForEvents(count: number, options?: Parameters<SseReader['waitForEvents']>[1]) {
    return this.reader.waitForEvents(count, options)
  }
  waitForComments(count: number, options?: Parameters<SseReader['waitForComments']>[1]) {
    return this.reader.waitForComments(count, options)
  }
  async waitForClose(timeoutMs = 5000) {
    await waitFor('the response to end', () => this.closed, { timeout: timeoutMs })
  }
  abstract pause(): void
  abstract resume(): void
  abstract close(): void
}
