import type { DurableStreams } from './durable'
import type { DurableWriter } from './durable-producer'
import type { EventMap } from './types'

/** Options of {@link createDurableStreams}. */
export interface DurableStreamsOptions {
  /**
   * The URL where a client resumes a stream, by id: a GET route that opens it with
   * `durable: streams.get(id, { owner })`. Sent in the `SSE-Resume` header; relative URLs are
   * resolved by the client against the request's.
   */
  location: (id: string) => string
  /**
   * How long a stream can be read after its last part, in milliseconds: a finished answer
   * replays in full until then, and after it a GET gets 404.
   * @default 86400000 (24 h)
   */
  ttl?: number
  /**
   * How long a producer's lease lasts, in milliseconds; it is renewed every third of it. When
   * the producer's process dies, its readers get an `error` event with reason `producer-lost`
   * within twice this (C30).
   * @default 15000 (the default heartbeat)
   */
  lease?: number
}

/** Options of {@link DurableStreams.start}. */
export interface DurableStartOptions<M extends EventMap = EventMap> {
  /**
   * Produces the stream's parts with `out.send(...)`, detached from the request that started
   * it: a client that leaves does not stop it. What it returns is the `done` event's data; what
   * it throws ends the stream with `error` (reason `failed`) and goes to the hub's `onError`.
   * `signal` aborts when the stream is cancelled or this process lost the lease.
   */
  produce: (out: DurableWriter<M>, signal: AbortSignal) => unknown
  /** Who may read and cancel the stream, for example the user id; checked on every open and cancel. */
  owner?: string | undefined
  /**
   * Names the request (for example its `Idempotency-Key` header): a start with a key that
   * names a stream still kept returns that stream and runs nothing (C31).
   */
  idempotencyKey?: string | undefined
  /**
   * Cancels the stream when the client of the response it was opened on (`durable: run`)
   * leaves before the end, as a plain request's work would stop. Off by default: a reload or
   * a network switch must not lose the answer.
   * @default false
   */
  cancelOnDisconnect?: boolean | undefined
}

/** A durable stream to open: pass it as the `durable` option of `openNodeStream`, an adapter... */
export interface DurableRef {
  /** The stream's id: 128 random bits, base64url. */
  readonly id: string
  /** Where the client resumes it (`SSE-Resume`). */
  readonly location: string
  /** The owner an open of this reference must match. */
  readonly owner: string | undefined
  /** The streams it belongs to. */
  readonly streams: DurableStreams
}

/** A started durable stream. */
export interface DurableRun extends DurableRef {
  /** False when an idempotency key named a stream already started: nothing new runs. */
  readonly created: boolean
  /** From the start options: a response opened with this run cancels the stream if its client leaves. */
  readonly cancelOnDisconnect: boolean
}
