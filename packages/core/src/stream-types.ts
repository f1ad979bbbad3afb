import type { Bytes } from './bytes'
import type { ConnectionEvents, Sink } from './connection'
import type { ResolvedStreamOptions } from './options'
import type { SseStream } from './stream'
import type { EventArgs, EventMap, MessageFields, SseMessage } from './types'

/** Why a stream ended, as found in {@link SseStream.closeReason} and `signal.reason`. */
export type CloseReason =
  /** The client went away. */
  | 'client'
  /** The application called `close()`. */
  | 'server'
  /** The stream reached its maximum lifetime. */
  | 'lifetime'
  /** The client read too slowly and its queued bytes went over `maxBufferedBytes`. */
  | 'slow-consumer'
  /** The server shut down, or was shutting down when the stream was asked for. */
  | 'shutdown'
  /** The hub's stream limits were reached: the client was told to come back later. */
  | 'limit'
  /** A source piped into the stream failed, the handler failed, or the store failed while it opened. */
  | 'error'
  /** The store's live feed skipped events: the client resumes from the store to catch up. */
  | 'resync'
  /** A durable stream's terminal event (`done` or `error`) was sent: there is nothing more. */
  | 'done'

/**
 * The arguments of {@link SseStream.send}: `(event, data, fields?)` with data typed by the event
 * map (optional when it allows `undefined`), or one message object. A union of tuples rather
 * than generic overloads, so that `SseStream<Events>` stays assignable to `SseStream` (a generic
 * `K extends keyof M` would make the event map contravariant).
 */
export type SendArgs<M extends EventMap> =
  | EventArgs<M, [fields?: MessageFields]>
  | [message: SseMessage<M>]

/** A set of open streams that a stream leaves by itself when it ends (no closure per stream). */
export interface StreamGroup {
  add(stream: SseStream): void
  leave(stream: SseStream): void
}

/** Sends the response head (with `Retry-After` when the stream is sent away before it opened). */
export type WriteHead = (retryAfterMs?: number) => void

/**
 * What core, connections and adapters do to a stream beyond its public methods. Reached through
 * {@link streamInternals}, which no entry point exports, so an application cannot break a
 * hub's bookkeeping or write half an event.
 */
export interface StreamInternals {
  /** Creates a stream that writes its head with `writeHead` when it starts (or ends first). */
  create<M extends EventMap>(
    sink: Sink,
    options: ResolvedStreamOptions,
    lastEventId: string | undefined,
    writeHead: WriteHead,
  ): SseStream<M>
  /** Sends the head and `prelude`, then whatever was written meanwhile; starts heartbeats. */
  start(stream: SseStream, prelude: string): void
  /** Writes whole encoded events (a broadcast's shared bytes). */
  write(stream: SseStream, frame: string | Bytes): boolean
  /** Adds a cleanup, run once when the stream ends; returns what removes it before then. */
  onClose(stream: SseStream, cleanup: () => void): () => void
  /** Puts the stream in a group (the streams of one server), which it leaves when it ends. */
  join(stream: SseStream, group: StreamGroup): void
  /** Ends the stream for `reason`, after its queued bytes are flushed. */
  end(stream: SseStream, reason: CloseReason): void
  /** Marks the stream ended for `reason` without writing anything: the request got another answer. */
  abandon(stream: SseStream, reason: CloseReason): void
  /** Drops the connection now, without flushing (also after `end`). */
  destroy(stream: SseStream): void
  /** Resolves once the connection is gone: the client left, or the response finished. */
  released(stream: SseStream): Promise<void>
  /** The connection's socket took the queued bytes. */
  drained(stream: SseStream): void
  /** The connection closed, whoever closed it. */
  closed(stream: SseStream): void
  /** What a connection tells this stream: the object `Connection.attach` receives. */
  events(stream: SseStream): ConnectionEvents
}
