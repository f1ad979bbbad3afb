import type { Bytes } from './bytes'
import type { ResolvedStreamOptions } from './options'
import type { WriteHead } from './stream-types'

/**
 * What a stream holds until its response head goes out. The stream drops it then, so an open
 * stream keeps none of it: the head's writer holds the connection and the head's headers.
 */
export class PendingHead {
  /** Sends the head, once. */
  readonly writeHead: WriteHead
  /** The delay to send the client away with if the stream ends first (jittered then). */
  readonly retry: number | false
  readonly retryJitter: number
  /** Frames written before the head went out; sent right after it. */
  early: (string | Bytes)[] | undefined

  constructor(writeHead: WriteHead, options: ResolvedStreamOptions) {
    this.writeHead = writeHead
    // Not the whole options object: only what an answer before the head needs.
    this.retry = options.retry
    this.retryJitter = options.retryJitter
  }

  /**
   * Keeps a frame written before the head went out (a hub stream still replaying), so that it
   * goes out after the head, in order.
   */
  hold(frame: string | Bytes): void {
    if (this.early) this.early.push(frame)
    else this.early = [frame]
  }
}
