/** What `stream.drain()` callers wait on: resolved when the client's socket takes its bytes. */
export interface DrainWait {
  readonly promise: Promise<void>
  readonly resolve: () => void
}

/**
 * A new wait for the next drain. One per drain, however many callers await it: made only when
 * someone waits while bytes are queued.
 */
export function drainWait(): DrainWait {
  let resolve!: () => void
  const promise = new Promise<void>((r) => {
    resolve = r
  })
  return { promise, resolve }
}
