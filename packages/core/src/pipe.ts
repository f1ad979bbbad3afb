import type { SseSession } from './session'
import type { EventMap, SseMessage } from './types'

/** A producer that `pipe()` can drain: an async iterable (async generator, Node stream) or a ReadableStream. */
export type PipeSource<T> = AsyncIterable<T> | ReadableStream<T>

/** Options of {@link SseSession.pipe}. */
export interface PipeOptions<T> {
  /**
   * Turns each item into a message. Without it, strings are sent as unnamed events' data and
   * other items are sent as messages (`{ event, data, id }`). Items are checked at run time by
   * the encoder, not against the session's event map: a typed map here would make
   * `SseSession<Events>` unassignable to `SseSession` (callback parameters are checked strictly).
   */
  map?: (item: T) => SseMessage | string
  /**
   * Closes the stream when the source ends.
   * @default true
   */
  close?: boolean
  /**
   * Called when the source fails, before the stream ends: return a message to tell the client
   * (for example `{ event: 'stream-error', data: '...' }`). `pipe()` still rejects with the error.
   */
  onError?: (error: unknown) => SseMessage | undefined
}

const STOPPED = Symbol('stopped')

function iteratorOf<T>(source: PipeSource<T>): AsyncIterator<T> {
  if (typeof (source as ReadableStream<T>).getReader === 'function') {
    // Not every runtime makes ReadableStream async-iterable (Safari, Node 20's types), so read it.
    const reader = (source as ReadableStream<T>).getReader()
    return {
      next: () => reader.read() as Promise<IteratorResult<T>>,
      return: async () => {
        await reader.cancel()
        return { done: true, value: undefined }
      },
    }
  }
  return (source as AsyncIterable<T>)[Symbol.asyncIterator]()
}

/** Runs `session.pipe()`. */
export async function pipeInto<T, M extends EventMap>(
  session: SseSession<M>,
  source: PipeSource<T>,
  options: PipeOptions<T> = {},
): Promise<void> {
  if (session.closed) return
  const iterator = iteratorOf(source)
  let stop!: () => void
  const stopped = new Promise<typeof STOPPED>((resolve) => {
    stop = () => resolve(STOPPED)
  })
  session.signal.addEventListener('abort', stop, { once: true })
  let finished = false
  try {
    for (;;) {
      const step = iterator.next()
      // If the client leaves first, nobody awaits this step: keep its failure from going unhandled.
      step.catch(() => {})
      const next = await Promise.race([step, stopped])
      if (next === STOPPED) return
      if (next.done) {
        finished = true
        break
      }
      const item = options.map ? options.map(next.value) : next.value
      const sent =
        typeof item === 'string'
          ? session.send({ data: item } as SseMessage<M>)
          : session.send(item as SseMessage<M>)
      if (!sent) await session.drain()
    }
    if (options.close !== false) session.close()
  } catch (error) {
    const last = options.onError?.(error)
    if (last) session.send(last as SseMessage<M>)
    session.close('error')
    throw error
  } finally {
    session.signal.removeEventListener('abort', stop)
    if (!finished) {
      // Stop the producer without waiting: a generator parked on its own await would hold us.
      Promise.resolve()
        .then(() => iterator.return?.())
        .catch(() => {})
    }
  }
}
