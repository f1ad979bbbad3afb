import type { Bytes } from './bytes'
import type { ConnectionEvents, Sink } from './connection'
import { reportSlowConsumer } from './diagnostics'
import { type EventFields, encodeComment, encodeEvent } from './encoder'
import { jitteredRetry, type ResolvedStreamOptions, streamDefaults } from './options'
import { type PipeOptions, type PipeSource, pipeInto } from './pipe'
import type { CloseReason, SendArgs, StreamGroup, StreamInternals, WriteHead } from './stream-types'
import { resolutionFor, Ticker } from './ticker'
import type { EventMap, MessageFields, Serializer, SseMessage } from './types'

function noop(): void {}

/**
 * What a connection tells one stream, as one small object per stream (its methods on the
 * prototype) rather than two closures: a stream's memory counts once per open connection.
 */
class StreamEvents implements ConnectionEvents {
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

/** Filled in by {@link SseStream}'s static block, the one place that sees its private state. */
export const streamInternals = {} as StreamInternals

/** The process-wide ticker of every stream's heartbeat and lifetime (exported for leak checks). */
export let ticker: Ticker<SseStream>

const HEARTBEAT = ':\n\n'
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
      onClose: (stream, cleanup) => {
        if (stream.#state === CLOSED) {
          cleanup()
          return noop
        }
        // Most streams have one cleanup (their hub's) for their whole life: no array for it.
        if (!stream.#onClose) {
          stream.#onClose = cleanup
          return () => {
            if (stream.#onClose === cleanup) stream.#onClose = undefined
          }
        }
        const more = stream.#moreOnClose ?? []
        stream.#moreOnClose = more
        more.push(cleanup)
        return () => {
          const at = more.indexOf(cleanup)
          if (at !== -1) more.splice(at, 1)
        }
      },
      join: (stream, group) => {
        if (stream.#state === CLOSED) return
        stream.#group = group
        group.add(stream)
      },
      end: (stream, reason) => stream.#finish(reason),
      abandon: (stream, reason) => stream.#finish(reason, false),
      destroy: (stream) => {
        stream.#finish('server')
        if (!stream.#released) stream.#sink.destroy()
      },
      released: (stream) => stream.#whenReleased(),
      drained: (stream) => stream.#drained(),
      closed: (stream) => stream.#closed(),
      events: (stream) => new StreamEvents(stream),
    } satisfies StreamInternals)
  }

  /** The valid `Last-Event-ID` the client sent (header, else query parameter), if any. */
  readonly lastEventId: string | undefined
  readonly #sink: Sink
  readonly #maxBuffered: number
  /** The delay to send a client away with, if the stream ends before its head (jittered then). */
  readonly #retry: Pick<ResolvedStreamOptions, 'retry' | 'retryJitter'>
  readonly #serialize: Serializer
  readonly #heartbeat: number
  readonly #resolution: number
  /** Until the head is out: it holds the connection and the head's headers, freed after. */
  #writeHead: WriteHead
  #state = PENDING
  #closeReason: CloseReason | undefined
  /** Frames written before the head went out; sent right after it. */
  #early: (string | Bytes)[] | undefined
  /** When the last write happened, on the ticker's clock (at most one tick early). */
  #lastActive = 0
  #deadline = Number.POSITIVE_INFINITY
  #needsDrain = false
  #drain: { promise: Promise<void>; resolve: () => void } | undefined
  #controller: AbortController | undefined
  #onClose: (() => void) | undefined
  #moreOnClose: (() => void)[] | undefined
  #group: StreamGroup | undefined
  #released = false
  #onReleased: (() => void) | undefined

  private constructor(
    sink: Sink,
    options: ResolvedStreamOptions,
    lastEventId: string | undefined,
    writeHead: WriteHead,
  ) {
    this.#sink = sink
    this.#maxBuffered = options.maxBufferedBytes
    // Not the whole options object: a stream keeps only what it needs for its whole life.
    this.#retry =
      options.retry === streamDefaults.retry && options.retryJitter === streamDefaults.retryJitter
        ? streamDefaults
        : { retry: options.retry, retryJitter: options.retryJitter }
    this.#writeHead = writeHead
    this.lastEventId = lastEventId
    this.#serialize = options.serialize
    this.#heartbeat = options.heartbeat === false ? 0 : options.heartbeat
    const lifetime = options.maxLifetime === false ? 0 : options.maxLifetime
    if (lifetime > 0) {
      this.#deadline = Date.now() + lifetime * (1 - options.lifetimeJitter * Math.random())
    }
    const intervals = [this.#heartbeat, lifetime].filter((ms) => ms > 0)
    this.#resolution = intervals.length ? resolutionFor(Math.min(...intervals)) : 0
  }

  /** True once the stream has ended, for whatever reason. */
  get closed(): boolean {
    return this.#state === CLOSED
  }

  /** Why the stream ended; undefined while it is open. */
  get closeReason(): CloseReason | undefined {
    return this.#closeReason
  }

  /** Aborts once, when the stream ends for any reason; `signal.reason` is the {@link CloseReason}. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController()
      if (this.#state === CLOSED) this.#controller.abort(this.#closeReason)
    }
    return this.#controller.signal
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
    if (!this.#drain) {
      let resolve!: () => void
      const promise = new Promise<void>((r) => {
        resolve = r
      })
      this.#drain = { promise, resolve }
    }
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
      // The head is not out yet (a hub stream still replaying): keep the order, send it after.
      if (this.#early) this.#early.push(frame)
      else this.#early = [frame]
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
    const writeHead = this.#writeHead
    this.#writeHead = noop
    writeHead(retryAfterMs)
    if (this.#resolution > 0 && retryAfterMs === undefined)
      ticker.add(this.#untyped, this.#resolution)
    const early = this.#early
    this.#early = undefined
    if (prelude) this.#write(prelude)
    for (const frame of early ?? []) this.#write(frame)
  }

  /** This stream as the process-wide ticker holds every stream, whatever its event map. */
  get #untyped(): SseStream {
    return this as unknown as SseStream
  }

  #whenReleased(): Promise<void> {
    if (this.#released) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const previous = this.#onReleased
      this.#onReleased = () => {
        previous?.()
        resolve()
      }
    })
  }

  #drained(): void {
    this.#needsDrain = false
    const drain = this.#drain
    this.#drain = undefined
    drain?.resolve()
  }

  #closed(): void {
    this.#finish('client')
    if (this.#released) return
    this.#released = true
    const released = this.#onReleased
    this.#onReleased = undefined
    released?.()
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
      const retry = jitteredRetry(this.#retry)
      this.#start(encodeEvent({ retry }), retry)
    }
    this.#state = CLOSED
    this.#closeReason = reason
    this.#early = undefined
    if (this.#resolution > 0) ticker.delete(this.#untyped, this.#resolution)
    // A slow consumer's queue is dropped at once to free its memory; it resumes from the last
    // id it actually received. A client that left needs nothing more.
    if (reason === 'slow-consumer') this.#sink.destroy()
    else if (answer) this.#sink.end()
    this.#group?.leave(this.#untyped)
    this.#group = undefined
    const first = this.#onClose
    const more = this.#moreOnClose
    this.#onClose = undefined
    this.#moreOnClose = undefined
    first?.()
    for (const cleanup of more ?? []) cleanup()
    this.#drained()
    this.#controller?.abort(reason)
  }
}
