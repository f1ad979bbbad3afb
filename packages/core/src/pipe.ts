import { type SseStream, streamInternals } from './stream'
import type { EventMap, SseMessage } from './types'

/** A producer that `pipe()` can drain: an async iterable (async generator, Node stream) or a ReadableStream. */
export type PipeSource<T> = AsyncIterable<T> | ReadableStream<T>

/** Options of {@link SseStream.pipe}, typed by the stream's event map `M`. */
export interface PipeOptions<T, M extends EventMap = EventMap> {
  /**
   * Turns each item into a message of the stream's event map, or a string (the data of an
   * unnamed event). Without it, strings are sent as unnamed events' data and other items as
   * messages (`{ event, data, id }`).
   */
  map?: (item: T) => SseMessage<M> | string
  /**
   * Closes the stream when the source ends.
   * @default true
   */
  close?: boolean
  /**
   * When the source fails: the last message to send before the stream ends (for example
   * `{ event: 'stream-error', data: '...' }`), or undefined to send none.
   */
  errorMessage?: (error: unknown) => SseMessage<M> | undefined
  /**
   * Hears the source's failure (the stream then ends with reason `'error'`; `pipe()` resolves).
   * @default logs with console.error
   */
  onError?: (error: unknown) => void
}

const STOPPED = Symbol('stopped')

/** Reads an async iterable or a ReadableStream the same way. */
export function iteratorOf<T>(source: PipeSource<T>): AsyncIterator<T> {
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

function logPipeError(error: unknown): void {
  console.error('[@sse/core] the source piped into a stream failed:', error)
}

/** Runs `stream.pipe()`. */
export async function pipeInto<T, M extends EventMap>(
  stream: SseStream<M>,
  source: PipeSource<T>,
  options: PipeOptions<T, M> = {},
): Promise<void> {
  if (stream.closed) return
  const iterator = iteratorOf(source)
  let stop!: () => void
  const stopped = new Promise<typeof STOPPED>((resolve) => {
    stop = () => resolve(STOPPED)
  })
  stream.signal.addEventListener('abort', stop, { once: true })
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
          ? stream.send({ data: item } as SseMessage<M>)
          : stream.send(item as SseMessage<M>)
      if (!sent) await stream.drain()
    }
    if (options.close !== false) stream.close()
  } catch (error) {
    // Fire-and-forget pipes are common (`stream.pipe(source)` in a handler): a failure is told
    // to onError and the client, never thrown at a caller that may not be listening.
    try {
      const last = options.errorMessage?.(error)
      if (last) stream.send(last)
    } catch (failure) {
      ;(options.onError ?? logPipeError)(failure)
    }
    ;(options.onError ?? logPipeError)(error)
    streamInternals.end(stream as unknown as SseStream, 'error')
  } finally {
    stream.signal.removeEventListener('abort', stop)
    if (!finished) {
      // Stop the producer without waiting: a generator parked on its own await would hold us.
      Promise.resolve()
        .then(() => iterator.return?.())
        .catch(() => {})
    }
  }
}
