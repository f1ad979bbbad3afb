import type { EventInput, StoredEvent } from './store'

/** What a store keeps when a durable stream starts. */
export interface DurableInit {
  /** The stream's id: at least 128 random bits, URL-safe. */
  id: string
  /** The producer's secret: appends and the end carry it, so only the lease holder writes (fencing). */
  token: string
  /** Who started it; reads and cancels must name the same owner. */
  owner: string | undefined
  /** Names the request that started it: a second start with the same key gets this stream. */
  idempotencyKey: string | undefined
  /** Milliseconds the stream stays readable after its last write. */
  ttl: number
  /** Milliseconds the producer's lease lasts unless renewed. */
  lease: number
}

/** A durable stream as a store knows it. */
export interface DurableState {
  /** Who started it, or undefined when it was started without an owner. */
  owner: string | undefined
  /** True once its terminal event (`done` or `error`) is stored. */
  ended: boolean
  /** True while it runs with nobody holding the lease: its producer stopped renewing it. */
  orphaned: boolean
}

/**
 * The part of a store that durable streams need beyond the {@link EventStore} contract: a
 * record per stream with a fenced producer lease, an idempotency key, and a way to reach the
 * producer from any process. A durable stream's parts go to its own log (read, followed and fed
 * like any other), which is never trimmed and expires `ttl` after its last write, with its
 * record. {@link MemoryStore} has one; `@sse/redis` has one that several processes share.
 * Every method may return a promise.
 */
export interface DurableBackend {
  /**
   * Keeps the record of a new stream, with `token` holding its lease, unless `idempotencyKey`
   * already names a stream that is still kept: then nothing is created and that stream's id is
   * returned.
   */
  create(
    init: DurableInit,
  ): { id: string; created: boolean } | Promise<{ id: string; created: boolean }>
  /** The stream's record; undefined when there is none (never was, or expired). */
  state(id: string): DurableState | undefined | Promise<DurableState | undefined>
  /** Extends the lease while `token` holds it; false once it does not (expired, or the stream ended). */
  renew(id: string, token: string, lease: number): boolean | Promise<boolean>
  /**
   * Appends parts to the stream's log while `token` holds the lease, as `EventStore.append`
   * does; undefined, with nothing stored, once it does not. `stored` is how many parts the
   * producer had stored before these: the producer sends a write again when it failed, and
   * when its reply was lost after the write landed the log already holds more than `stored`
   * parts; the backend then returns those instead of storing them twice.
   */
  append(
    id: string,
    token: string,
    inputs: readonly EventInput[],
    stored: number,
  ): readonly StoredEvent[] | undefined | Promise<readonly StoredEvent[] | undefined>
  /**
   * Stores the terminal event and ends the stream: with a `token`, while it holds the lease;
   * with `undefined`, only if the stream is orphaned (its producer died). Undefined when
   * nothing was stored.
   */
  end(
    id: string,
    token: string | undefined,
    input: EventInput,
  ): StoredEvent | undefined | Promise<StoredEvent | undefined>
  /** Tells the process that runs the stream's producer to stop it (see {@link DurableBackend.onCancel}). */
  cancel(id: string): void | Promise<void>
  /** Calls `listener` with the id of every stream whose cancel was asked, in any process; returns the function that stops it. */
  onCancel(listener: (id: string) => void): () => void
}
