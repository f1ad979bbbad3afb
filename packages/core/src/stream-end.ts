import type { SseStream } from './stream'
import type { CloseReason, StreamGroup } from './stream-types'

function noop(): void {}

/**
 * Who hears of one stream's end: its cleanups, its group, its abort signal, and whoever waits
 * for its connection to go. Kept out of {@link SseStream} so that the class holds its state
 * machine and write path; nothing here is touched per event, so the extra object per stream
 * costs no per-event work.
 */
export class StreamEnd {
  /** Why the stream ended; set once, when it ends (the stream sets it with its state). */
  reason: CloseReason | undefined
  /** True once the connection is gone: the client left, or the response finished. */
  released = false
  #cleanup: (() => void) | undefined
  #moreCleanups: (() => void)[] | undefined
  #group: StreamGroup | undefined
  #controller: AbortController | undefined
  #onReleased: (() => void) | undefined

  /** Adds a cleanup, run once at the end (at once if it has come); returns what removes it. */
  onClose(cleanup: () => void): () => void {
    if (this.reason !== undefined) {
      cleanup()
      return noop
    }
    // Most streams have one cleanup (their hub's) for their whole life: no array for it.
    if (!this.#cleanup) {
      this.#cleanup = cleanup
      return () => {
        if (this.#cleanup === cleanup) this.#cleanup = undefined
      }
    }
    const more = this.#moreCleanups ?? []
    this.#moreCleanups = more
    more.push(cleanup)
    return () => {
      const at = more.indexOf(cleanup)
      if (at !== -1) more.splice(at, 1)
    }
  }

  /** Puts `stream` in `group`, which it leaves at its end (nothing once it has ended). */
  join(stream: SseStream, group: StreamGroup): void {
    if (this.reason !== undefined) return
    this.#group = group
    group.add(stream)
  }

  /** Created on first use: most streams are never asked for one. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController()
      if (this.reason !== undefined) this.#controller.abort(this.reason)
    }
    return this.#controller.signal
  }

  /** The stream has ended: it leaves its group and runs its cleanups. */
  ended(stream: SseStream): void {
    this.#group?.leave(stream)
    this.#group = undefined
    const first = this.#cleanup
    const more = this.#moreCleanups
    this.#cleanup = undefined
    this.#moreCleanups = undefined
    first?.()
    for (const cleanup of more ?? []) cleanup()
  }

  /** Aborts the signal, if anyone asked for it; last, after the cleanups and the drain. */
  abort(): void {
    this.#controller?.abort(this.reason)
  }

  /** Resolves once the connection is gone. */
  whenReleased(): Promise<void> {
    if (this.released) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const previous = this.#onReleased
      this.#onReleased = () => {
        previous?.()
        resolve()
      }
    })
  }

  /** The connection is gone (the first time it says so): resolves whoever waits for it. */
  release(): void {
    if (this.released) return
    this.released = true
    const released = this.#onReleased
    this.#onReleased = undefined
    released?.()
  }
}
