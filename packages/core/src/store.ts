/** An event as the hub hands it to a store: fields already validated and data already text. */
export interface EventInput {
  /** The topic it goes to; undefined sends it to every session of the hub. */
  topic?: string
  /** Only sessions opened with this key receive it (for example one user's tabs). */
  key?: string
  /** The event name; undefined for an unnamed (`message`) event. */
  event?: string
  /** The serialized data. */
  data: string
}

/** An event the store has kept, with the id it assigned. */
export interface StoredEvent extends EventInput {
  /** Assigned by the store: printable ASCII, increasing across the whole store, never repeating (C22). */
  readonly id: string
}

/** What a store has after a cursor. */
export interface ReplayResult {
  /** Retained events strictly after the cursor, oldest first (C20). */
  events: StoredEvent[]
  /**
   * True when the cursor is unknown, malformed or older than the retained history: events the
   * client never saw are gone, and `events` holds everything still retained (C21).
   */
  lost: boolean
}

/**
 * Where a hub keeps history and gets its live feed. {@link MemoryStore} is the embedded
 * default; `@sse/redis` implements the same contract for several processes. Every method may
 * return a promise.
 */
export interface EventStore {
  /** Assigns the next id, keeps the event within the retention bounds, and feeds it to subscribers. */
  append(input: EventInput): StoredEvent | Promise<StoredEvent>
  /** The retained events strictly after `after`; `undefined` stands for an unusable cursor. */
  replay(after: string | undefined): ReplayResult | Promise<ReplayResult>
  /**
   * The cursor of a client that has seen everything so far: every event after it is delivered
   * by `subscribe`'s feed from now on, and `replay` of it returns them (not lost). A new
   * stream's first frame carries it (C34), so a client cut before its first event resumes from
   * there. For an empty store, a cursor before its first event.
   */
  head(): string | Promise<string>
  /**
   * Calls `listener` for every appended event, in id order, including events appended by other
   * processes sharing the store. Returns the function that unsubscribes.
   *
   * A store whose live feed can skip events (a shared store trimmed, or restarted, before this
   * process read them) calls `onGap`: the hub then ends its streams, and each client resumes from
   * the store, which tells it what was lost.
   */
  subscribe(listener: (event: StoredEvent) => void, onGap?: () => void): () => void
  /** Orders two ids of this store: negative when `a` came first, 0 when equal, positive after. */
  compare(a: string, b: string): number
}
