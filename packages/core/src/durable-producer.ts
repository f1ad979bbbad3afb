import { DurableLease } from './durable-lease'
import type { DurableBackend } from './durable-store'
import { DONE_EVENT, ERROR_EVENT } from './head'
import { durableLog } from './logs'
import { iteratorOf, type PipeSource } from './pipe'
import type { EventInput } from './store'
import type { EventArgs, EventMap, SseMessage } from './types'

/** `send`'s arguments on a {@link DurableWriter}: `(event, data)` or a message object. */
export type DurableSendArgs<M extends EventMap> = EventArgs<M, []> | [message: SseMessage<M>]

/** What a durable stream's producer writes with. */
export interface DurableWriter<M extends EventMap = EventMap> {
  /**
   * Stores one part in the stream's log, which sends it to every reader, on any instance.
   * Resolves once it is stored. Rejects, storing nothing, once the producer must stop: the
   * stream was cancelled, or this process lost the lease (it stalled for longer than the
   * lease, and the readers were told the producer was lost). The names `done` and `error` are
   * the stream's own (TypeError).
   */
  send(...args: DurableSendArgs<M>): Promise<void>
  /**
   * Sends every item of a source (an async iterable, a ReadableStream: a model's stream) as a
   * part, in order, each stored before the next is read; resolves when the source ends. Stops
   * reading the source, and rejects, when the producer must stop (as `send`).
   *
   * @example
   * ```ts
   * // The Vercel AI SDK's UI message stream; `return '[DONE]'` ends it as the SDK expects.
   * produce: async (out, signal) => {
   *   await out.pipe(streamText({ model, prompt, abortSignal: signal }).toUIMessageStream(), {
   *     map: (chunk) => ({ data: chunk }),
   *   })
   *   return '[DONE]'
   * }
   * ```
   */
  pipe<T>(
    source: PipeSource<T>,
    options?: { map?: (item: T) => SseMessage<M> | string },
  ): Promise<void>
}

/** Why a durable stream ended without `done`: the `reason` of its `error` event. */
export type DurableErrorReason = 'failed' | 'cancelled' | 'producer-lost'

/** The terminal `error` event of a durable stream. */
export function errorInput(id: string, reason: DurableErrorReason): EventInput {
  return { log: durableLog(id), event: ERROR_EVENT, data: JSON.stringify({ reason }) }
}

/** What a producer runs with: its stream, its lease, and how parts become store inputs. */
export interface ProducerSetup {
  backend: DurableBackend
  id: string
  token: string
  lease: number
  /** Checks `send`'s arguments and serializes the data, as `hub.publish` does. */
  input: (args: unknown[]) => { event?: string; data: string }
  serialize: (data: unknown) => string
  reportError: (error: unknown) => void
}

/**
 * Runs a producer detached from any request: renews its lease every third of it, stores each
 * part before it is sent (again, while the lease holds, when the store failed), and ends the
 * stream with `done` (what `produce` returned) or `error`.
 * A cancel ends the stream at once, even if the producer does not stop; a lost lease stops
 * the producer and writes nothing more (the reader that found it orphaned wrote the error).
 *
 * @returns the function that cancels it
 */
export function runProducer<M extends EventMap>(
  setup: ProducerSetup,
  produce: (out: DurableWriter<M>, signal: AbortSignal) => unknown,
): () => void {
  const { backend, id, token } = setup
  const controller = new AbortController()
  let finished = false
  /** Parts stored so far: a retried append tells the backend where it stands. */
  let stored = 0
  const finish = async (input: EventInput) => {
    if (finished) return
    finished = true
    lease.release()
    try {
      await lease.whileHeld(() => backend.end(id, token, input))
    } catch (error) {
      setup.reportError(error)
    }
  }
  const stop = (reason: Exclude<DurableErrorReason, 'failed'>) => {
    if (controller.signal.aborted) return
    controller.abort(new DurableStopped(reason))
    if (reason === 'cancelled') void finish(errorInput(id, reason))
    else {
      finished = true
      lease.release()
    }
  }
  const lease = new DurableLease(
    backend,
    id,
    token,
    setup.lease,
    () => stop('producer-lost'),
    setup.reportError,
  )

  const writer: DurableWriter<M> = {
    async send(...args) {
      controller.signal.throwIfAborted()
      const { event, data } = setup.input(args)
      if (event === DONE_EVENT || event === ERROR_EVENT) {
        throw new TypeError(`Invalid SSE event "${event}": a durable stream's own terminal event`)
      }
      const input = [{ log: durableLog(id), event, data }]
      const parts = await lease.whileHeld(() => backend.append(id, token, input, stored))
      if (parts) stored += parts.length
      else stop('producer-lost')
      controller.signal.throwIfAborted()
    },
    async pipe(source, options) {
      const iterator = iteratorOf(source)
      let done = false
      try {
        for (;;) {
          controller.signal.throwIfAborted()
          const next = await iterator.next()
          if (next.done) {
            done = true
            return
          }
          const item = options?.map ? options.map(next.value) : next.value
          const message = typeof item === 'string' ? { data: item } : item
          await (writer.send as (message: unknown) => Promise<void>)(message)
        }
      } finally {
        if (!done) await Promise.resolve(iterator.return?.()).catch(() => {})
      }
    },
  }
  void (async () => {
    let outcome: EventInput
    try {
      const result = await produce(writer, controller.signal)
      const data = result === undefined ? 'null' : setup.serialize(result)
      outcome = { log: durableLog(id), event: DONE_EVENT, data }
    } catch (error) {
      // After a cancel or a lost lease, what the producer throws is its way of stopping.
      if (!controller.signal.aborted) setup.reportError(error)
      outcome = errorInput(id, 'failed')
    }
    await finish(outcome)
  })()
  return () => stop('cancelled')
}

/** The reason a durable stream's signal aborts with: cancelled, or its lease was lost. */
export class DurableStopped extends Error {
  /** Why the producer must stop. */
  readonly reason: Exclude<DurableErrorReason, 'failed'>

  constructor(reason: Exclude<DurableErrorReason, 'failed'>) {
    super(`durable stream ${reason === 'cancelled' ? 'cancelled' : 'lost its lease'}`)
    this.name = 'DurableStopped'
    this.reason = reason
  }
}
