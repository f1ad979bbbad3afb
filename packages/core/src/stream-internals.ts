import type { ConnectionEvents } from './connection'
import type { SseStream } from './stream'
import type { StreamInternals } from './stream-types'

/**
 * Filled in by {@link SseStream}'s static block, the one place that sees its private state.
 * Import it from `./stream`, which re-exports it: importing that module is what fills it.
 */
export const streamInternals = {} as StreamInternals

/**
 * What a connection tells one stream, as one small object per stream (its methods on the
 * prototype) rather than two closures: a stream's memory counts once per open connection.
 */
export class StreamEvents implements ConnectionEvents {
  readonly #stream: SseStream
  constructor(stream: SseStream) {
    this.#stream = stream
  }
  drained(): void {
    streamInternals.drained(this.#stream)
  }
  closed(): void {
    streamInternals.closed(this.#stream)
  }
}
