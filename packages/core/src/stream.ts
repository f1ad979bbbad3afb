import type { Bytes } from './bytes'
import type { Sink } from './connection'
import { reportSlowConsumer } from './diagnostics'
import { type DrainWait, drainWait } from './drain-wait'
import { type EventFields, encodeComment, encodeEvent } from './encoder'
import { jitteredRetry, type ResolvedStreamOptions } from './options'
import { type PipeOptions, type PipeSource, pipeInto } from './pipe'
import { StreamEnd } from './stream-end'
import { PendingHead } from './stream-head'
import { StreamEvents, streamInternals } from './stream-internals'
import { HEARTBEAT, heartbeatInterval, lifetimeDeadline, tickResolution } from './stream-timing'
import type { CloseReason, SendArgs, StreamInternals, WriteHead } from './stream-types'
import { Ticker } from './ticker'
import type { EventMap, MessageFields, Serializer, SseMessage } from './types'

export { streamInternals } // reached through this module, whose static block fills it

/** The process-wide ticker of every stream's heartbeat and lifetime (exported for leak checks). */
export let ticker: Ticker<SseStream>

const PENDING = 0
const OPEN = 1
const CLOSED = 2

/**
 * One client's event stream, opened by `openNodeStream`, `openWebStream` or an adapter. Every
 * method is synchronous and never throws because the client left: once the stream is closed,
 * writes return `false` and do nothing.
 *
 * @typeParam M - the application's {@link EventMap}, which types `send`.
 */
// biome-ignore lint/suspicious/noExplicitAny: `any`, so that a stream of any event map is assignable to `SseStream`
export class SseStream<M extends EventMap = any> {
  static {
    ticker = new Ticker((stream, now) => stream.#tick(now))
    Object.assign(streamInternals, {
      create: (sink, options, lastEventId, writeHead) =>
        new SseStream(sink, options, lastEventId, writeHead),
      start: (stream, prelude) => stream.#start(prelude),
      write: (stream, frame) => stream.#write(frame),
      onClose: (stream, cleanup) => stream.#end.onClose(cleanup),
      join: (stream, group) => stream.#end.join(stream, group),
      end: (stream, reason) => stream.#finish(reason),
      abandon: (stream, reason) => stream.#finish(reason, false),
      destroy: (stream) => {
        stream.#finish('server')
        if (!stream.#end.released) stream.#sink.destroy()
      },
      released: (stream) => stream.#end.whenReleased(),
      drained: (stream) => stream.#drained(),
      closed: (stream) => {
        stream.#finish('client')
        stream.#end.release()
      },
      events: (stream) => new StreamEvents(stream),
    } satisfies StreamInternals)
  }

  /** The valid `Last-Event-ID` the client sent (header, else query parameter), if any. */
  readonly lastEventId: string | undefined
  readonly #sink: Sink
  readonly #maxBuffered: number
  readonly #serialize: Serializer
  readonly #heartbeat: number
  readonly #resolution: number
  #head: PendingHead | undefined
  #state = PENDING
  /** When the last write happened, on the ticker's clock (at most one tick early). */
  #lastActive = 0
  readonly #deadline: number
  #needsDrain = false
  #drain: DrainWait | undefined
  readonly #end = new StreamEnd()

  private constructor(
    sink: Sink,
    options: ResolvedStreamOptions,
    lastEventId: string | undefined,
    writeHead: WriteHead,
  ) {
    this.#sink = sink
    this.#maxBuffered = options.maxBufferedBytes
    this.#head = new PendingHead(writeHead, options)
    this.lastEventId = lastEventId
    this.#serialize = options.serialize
    this.#heartbeat = heartbeatInterval(options)
    this.#deadline = lifetimeDeadline(options)
    this.#resolution = tickResolution(options)
  }

  /** True once the stream has ended, for whatever reason. */
  get closed(): boolean {
    return this.#state === CLOSED
  }

  /** Why the stream ended; undefined while it is open. */
  get closeReason(): CloseReason | undefined {
    return this.#end.reason
  }

  /** Aborts once, when the stream ends for any reason; `signal.reason` is the {@link CloseReason}. */
  get signal(): AbortSignal {
    return this.#end.signal
  }

  /** Bytes waiting to be taken by the client's socket. */
  get bufferedBytes(): number {
    return this.#state === OPEN ? this.#sink.bufferedBytes : 0
  }

  /**
   * Sends an event. Returns whether the bytes went straight out (`false` when they were queued
   * behind a slow client, or the stream is closed); never waits.
   *
   * @throws TypeError naming the field when `event`, `id`, `retry` or `comment` is invalid.
   * @example
   * ```ts
   * stream.send('tick', { n: 1 })
   * stream.send({ event: 'tick', data: { n: 1 }, id: '42' })
   * ```
   */
  send(...args: SendArgs<M>): boolean {
    const [eventOrMessage, data, fields] = args as [string | SseMessage<M>, unknown, MessageFields?]
    const message: EventFields =
      typeof eventOrMessage === 'string'
        ? {
            event: eventOrMessage,
            data,
            id: fields?.id,
            retry: fields?.retry,
            comment: fields?.comment,
          }
        : (eventOrMessage as EventFields)
    return this.#write(encodeEvent(message, { serialize: this.#serialize }))
  }

  /** Sends a comment (ignored by clients; multi-line text becomes several comment lines). */
  comment(text: string): boolean {
    return this.#write(encodeComment(text))
  }

  /** Tells the client how long to wait before reconnecting, in milliseconds. */
  retry(ms: number): boolean {
    return this.#write(encodeEvent({ retry: ms }))
  }

  /**
   * Resolves when the client has taken the queued bytes, or at once when nothing waits.
   * Also resolves when the stream closes, so an `await` here never hangs.
   */
  drain(): Promise<void> {
    if (!this.#needsDrain || this.#state === CLOSED) return Promise.resolve()
    this.#drain ??= drainWait()
    return this.#drain.promise
  }

  /**
   * Sends every item of an async iterable or ReadableStream, waiting while the client is slow
   * (C24), and stops the source when the client leaves. Closes the stream when the source ends
   * (unless `options.close` is false). Never rejects: when the source fails, the stream ends
   * with reason `'error'` after `options.errorMessage`'s message, if any, and `options.onError`
   * hears of it.
   *
   * @example
   * ```ts
   * await stream.pipe(answerTokens(prompt), { map: (token) => ({ event: 'token', data: token }) })
   * ```
   */
  pipe<T>(source: PipeSource<T>, options?: PipeOptions<T, M>): Promise<void> {
    return pipeInto(this, source, options)
  }

  /** Ends the stream after the queued bytes are flushed. The client will reconnect after `retry`. */
  close(): void {
    this.#finish('server')
  }

  #write(frame: string | Bytes): boolean {
    if (this.#state !== OPEN) {
      if (this.#state === CLOSED) return false
      this.#head!.hold(frame)
      return true
    }
    this.#lastActive = ticker.now
    if (this.#sink.write(frame)) return true
    this.#needsDrain = true
    const buffered = this.#sink.bufferedBytes
    if (buffered > this.#maxBuffered) {
      reportSlowConsumer(this.#untyped, buffered, 0)
      this.#finish('slow-consumer')
    }
    return false
  }

  #start(prelude: string, retryAfterMs?: number): void {
    if (this.#state !== PENDING) return
    this.#state = OPEN
    const head = this.#head!
    this.#head = undefined
    head.writeHead(retryAfterMs)
    if (this.#resolution > 0 && retryAfterMs === undefined)
      ticker.add(this.#untyped, this.#resolution)
    if (prelude) this.#write(prelude)
    for (const frame of head.early ?? []) this.#write(frame)
  }

  /** This stream as the process-wide ticker holds every stream, whatever its event map. */
  get #untyped(): SseStream {
    return this as unknown as SseStream
  }

  #drained(): void {
    this.#needsDrain = false
    const drain = this.#drain
    this.#drain = undefined
    drain?.resolve()
  }

  #tick(now: number): void {
    if (now >= this.#deadline) {
      this.#finish('lifetime')
      return
    }
    // The write was stamped with the last tick's time, so a heartbeat goes out at most one
    // tick after the idle interval (docs/deployment.md counts on it), and at most one tick early.
    if (this.#heartbeat > 0 && now - this.#lastActive >= this.#heartbeat) this.#write(HEARTBEAT)
  }

  #finish(reason: CloseReason, answer = reason !== 'client'): void {
    if (this.#state === CLOSED) return
    if (this.#state === PENDING && answer) {
      // Ended before its head went out (a shutdown, a store failure or gap mid-replay, a
      // limit): answer what an EventSource retries, 200 text/event-stream with a retry and
      // whatever was written meanwhile (a farewell), never a bare 200 or a 204 (C25).
      const retry = jitteredRetry(this.#head!)
      this.#start(encodeEvent({ retry }), retry)
    }
    this.#state = CLOSED
    this.#end.reason = reason
    this.#head = undefined
    if (this.#resolution > 0) ticker.delete(this.#untyped, this.#resolution)
    // A slow consumer's queue is dropped at once to free its memory; it resumes from the last
    // id it actually received. A client that left needs nothing more.
    if (reason === 'slow-consumer') this.#sink.destroy()
    else if (answer) this.#sink.end()
    this.#end.ended(this.#untyped)
    this.#drained()
    this.#end.abort()
  }
}
