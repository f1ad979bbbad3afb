import type { Bytes } from './bytes'
import { type EventFields, encodeComment, encodeEvent } from './encoder'
import { type PipeOptions, type PipeSource, pipeInto } from './pipe'
import { resolutionFor, type Tickable, ticker } from './ticker'
import type { EventMap, MessageFields, Serializer, SseMessage } from './types'

/**
 * Where a session's bytes go: the response of one client. The connections in
 * `@sse/core/node` and `@sse/core/web` provide one; implement it to run on another runtime.
 */
export interface Sink {
  /** Writes a complete frame. Returns false when the bytes are queued above the high-water mark. */
  write(chunk: string | Bytes): boolean
  /** Bytes written but not yet taken by the client's socket. */
  readonly bufferedBytes: number
  /** Ends the response after the queued bytes are flushed. */
  end(): void
  /** Drops the connection and its queued bytes at once. */
  destroy(): void
}

/** Why a session ended, as found in {@link SseSession.closeReason} and `signal.reason`. */
export type CloseReason =
  /** The client went away. */
  | 'client'
  /** The application called `close()`. */
  | 'server'
  /** The stream reached its maximum lifetime. */
  | 'lifetime'
  /** The client read too slowly and its queued bytes went over `maxBufferedBytes`. */
  | 'slow-consumer'
  /** The hub shut down, or was shutting down when the stream was asked for. */
  | 'shutdown'
  /** The hub's stream limits were reached: the client was told to come back later. */
  | 'limit'
  /** A source piped into the stream failed, or the store failed while it opened. */
  | 'error'
  /** The store's live feed skipped events: the client resumes from the store to catch up. */
  | 'resync'

/** Options of one stream. Hubs carry defaults for these; each call can override them. */
export interface SessionOptions {
  /**
   * Idle time in milliseconds after which a heartbeat comment is sent (C15); `false` disables.
   * Keep it below the idle timeout of proxies between you and the clients (often 30-60 s).
   * @default 15000
   */
  heartbeat?: number | false
  /**
   * Reconnection delay sent to the client in the first frame, in milliseconds; `false` sends none.
   * @default 3000
   */
  retry?: number | false
  /**
   * Spreads the `retry` sent to each client by up to this fraction of it (0.2: up to 20% more),
   * so that a fleet of clients does not reconnect in lock-step.
   * @default 0
   */
  retryJitter?: number
  /**
   * Ends the stream after this many milliseconds so the client reconnects (and resumes);
   * `false` keeps it open until the client or the server ends it.
   * @default false
   */
  maxLifetime?: number | false
  /**
   * Shortens each stream's lifetime by a random amount up to this fraction of `maxLifetime`,
   * so reconnects are spread out.
   * @default 0.1
   */
  lifetimeJitter?: number
  /**
   * The most bytes that may wait for one slow client. Above it the slow-consumer policy applies:
   * the stream is dropped, and the client reconnects and resumes with `Last-Event-ID` (C23).
   * @default 1048576 (1 MiB)
   */
  maxBufferedBytes?: number
  /**
   * Turns non-string event data into text.
   * @default JSON.stringify
   */
  serialize?: Serializer
  /**
   * Sends the events written to one client during one turn of the event loop in a single
   * socket write (node:http over HTTP/1.1; other connections ignore it). It multiplies the
   * events a core can deliver when many are broadcast at once, for up to one turn of latency.
   * @default false
   */
  coalesce?: boolean
}

/** {@link SessionOptions} with every default applied. */
export type ResolvedSessionOptions = Required<SessionOptions>

/** The reconnection delay sent when none is configured, in milliseconds. */
export const DEFAULT_RETRY = 3000

/** The defaults of {@link SessionOptions}. */
export const sessionDefaults: ResolvedSessionOptions = Object.freeze({
  heartbeat: 15_000,
  retry: DEFAULT_RETRY,
  retryJitter: 0,
  maxLifetime: false,
  lifetimeJitter: 0.1,
  maxBufferedBytes: 1024 * 1024,
  serialize: JSON.stringify,
  coalesce: false,
})

/**
 * The arguments of {@link SseSession.send}: `(event, data, fields?)` with data typed by the event
 * map, or one message object. A union of tuples rather than generic overloads, so that
 * `SseSession<Events>` stays assignable to `SseSession` (a generic `K extends keyof M` would
 * make the event map contravariant).
 */
export type SendArgs<M extends EventMap> =
  | { [K in keyof M & string]: [event: K, data: M[K], fields?: MessageFields] }[keyof M & string]
  | [message: SseMessage<M>]

const HEARTBEAT = ':\n\n'
const OPEN = 0
const CLOSED = 1

/**
 * One client's event stream. Created by a connection (`openNodeStream`, `openWebStream`) or an
 * adapter; every method is synchronous and never throws because the client left: once the
 * stream is closed, writes return `false` and do nothing.
 *
 * @typeParam M - the application's {@link EventMap}, which types `send`.
 */
export class SseSession<M extends EventMap = EventMap> implements Tickable {
  /** The valid `Last-Event-ID` the client sent (header, else query parameter), if any. */
  readonly lastEventId: string | undefined
  /** Why the stream ended; undefined while it is open. */
  closeReason: CloseReason | undefined
  readonly #sink: Sink
  readonly #maxBuffered: number
  readonly #serialize: Serializer
  readonly #heartbeat: number
  readonly #resolution: number
  #state = OPEN
  #started = false
  /** Set by every write, cleared by the next tick: the idle clock runs from that tick on. */
  #wrote = false
  #lastActive = 0
  #deadline = Number.POSITIVE_INFINITY
  #needsDrain = false
  #drain: { promise: Promise<void>; resolve: () => void } | undefined
  #controller: AbortController | undefined
  #onClose: (() => void) | undefined
  #released = false
  #onReleased: (() => void) | undefined

  /**
   * @param sink - where bytes go
   * @param options - resolved options; see {@link sessionDefaults}
   * @param lastEventId - the client's valid resume cursor, if any
   */
  constructor(sink: Sink, options: ResolvedSessionOptions, lastEventId?: string) {
    this.#sink = sink
    this.lastEventId = lastEventId
    this.#maxBuffered = options.maxBufferedBytes
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

  /** Aborts once, when the stream ends for any reason; `signal.reason` is the {@link CloseReason}. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController()
      if (this.#state === CLOSED) this.#controller.abort(this.closeReason)
    }
    return this.#controller.signal
  }

  /** Bytes waiting to be taken by the client's socket. */
  get bufferedBytes(): number {
    return this.#state === CLOSED ? 0 : this.#sink.bufferedBytes
  }

  /**
   * Sends an event. Returns whether the bytes went straight out (`false` when they were queued
   * behind a slow client, or the stream is closed); never waits.
   *
   * @throws TypeError naming the field when `event`, `id`, `retry` or `comment` is invalid.
   * @example
   * ```ts
   * session.send('tick', { n: 1 })
   * session.send({ event: 'tick', data: { n: 1 }, id: '42' })
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
    const frame = encodeEvent(message, { serialize: this.#serialize })
    return this.write(frame)
  }

  /** Sends a comment (ignored by clients; multi-line text becomes several comment lines). */
  comment(text: string): boolean {
    return this.write(encodeComment(text))
  }

  /** Tells the client how long to wait before reconnecting, in milliseconds. */
  retry(ms: number): boolean {
    return this.write(encodeEvent({ retry: ms }))
  }

  /**
   * Writes an already encoded frame, as produced by `encodeEvent` (the hub uses it to send one
   * broadcast's bytes to every subscriber). The frame must hold whole events.
   */
  write(frame: string | Bytes): boolean {
    if (this.#state === CLOSED) return false
    this.#wrote = true
    if (this.#sink.write(frame)) return true
    this.#needsDrain = true
    if (this.#sink.bufferedBytes > this.#maxBuffered) this.#finish('slow-consumer')
    return false
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
   * (C24). Strings are sent as unnamed events' data; other items as messages (or through
   * `options.map`). Stops the source when the client leaves; closes the stream when the source
   * ends (unless `options.close` is false) or fails (and then rejects with the source's error).
   */
  pipe<T>(source: PipeSource<T>, options?: PipeOptions<T>): Promise<void> {
    return pipeInto(this, source, options)
  }

  /** Ends the stream after the queued bytes are flushed. The client will reconnect after `retry`. */
  close(reason: CloseReason = 'server'): void {
    this.#finish(reason)
  }

  /** Drops the connection now, without flushing what is queued (also after `close()`). */
  destroy(): void {
    this.#finish('server')
    if (!this.#released) this.#sink.destroy()
  }

  /** Resolves once the connection is gone: the client left, or the response finished. */
  released(): Promise<void> {
    if (this.#released) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const previous = this.#onReleased
      this.#onReleased = () => {
        previous?.()
        resolve()
      }
    })
  }

  /**
   * Writes the first frame and starts heartbeat and lifetime. Called once by the connection
   * after the response head is sent.
   * @internal
   */
  start(prelude: string): void {
    if (this.#started || this.#state === CLOSED) return
    this.#started = true
    if (this.#resolution > 0) ticker.add(this, this.#resolution)
    this.write(prelude)
  }

  /**
   * Registers the one cleanup of whoever tracks this session (a hub). Runs once, on close.
   * @internal
   */
  onClose(cleanup: () => void): void {
    if (this.#state === CLOSED) cleanup()
    else this.#onClose = cleanup
  }

  /** Called by the connection when the client's socket has taken the queued bytes. @internal */
  handleDrain(): void {
    this.#needsDrain = false
    const drain = this.#drain
    this.#drain = undefined
    drain?.resolve()
  }

  /** Called by the connection when the response closed, whoever closed it. @internal */
  handleClose(): void {
    this.#finish('client')
    if (this.#released) return
    this.#released = true
    const released = this.#onReleased
    this.#onReleased = undefined
    released?.()
  }

  /** @internal */
  onTick(now: number): void {
    if (now >= this.#deadline) {
      this.#finish('lifetime')
      return
    }
    // Idle time counts from the first tick after the last write, so a heartbeat never comes
    // early, even when a busy event loop delays the ticks; it may come up to two ticks late.
    if (this.#wrote) {
      this.#wrote = false
      this.#lastActive = now
    } else if (this.#heartbeat > 0 && now - this.#lastActive >= this.#heartbeat) {
      this.write(HEARTBEAT)
    }
  }

  #finish(reason: CloseReason): void {
    if (this.#state === CLOSED) return
    this.#state = CLOSED
    this.closeReason = reason
    if (this.#resolution > 0) ticker.delete(this, this.#resolution)
    // A slow consumer's queue is dropped at once to free its memory; it resumes from the last
    // id it actually received. A client that left needs nothing more.
    if (reason === 'slow-consumer') this.#sink.destroy()
    else if (reason !== 'client') this.#sink.end()
    const cleanup = this.#onClose
    this.#onClose = undefined
    cleanup?.()
    this.handleDrain()
    this.#controller?.abort(reason)
  }
}
