/**
 * The events a stream carries: event name to the type of its data. An event sent without an
 * `event:` field is named `message`, as in the browser's `EventSource`.
 *
 * @example
 * ```ts
 * type Events = { tick: { n: number }; note: string }
 * ```
 */
// biome-ignore lint/suspicious/noExplicitAny: `any` values, so that interfaces fit the constraint too
export type EventMap = Record<string, any>

/** The event a `@sse/core` hub sends first on a resumed stream whose history is gone (C21). */
export const HISTORY_LOST_EVENT = 'history-lost'

/**
 * The data of the `history-lost` event: the id the client resumed from and whose events are
 * gone (a topic's, a key's, or everyone's when neither is set). The events after it that are
 * still kept follow.
 */
export interface HistoryLost {
  /** The `Last-Event-ID` the client sent, or `null`. */
  lastEventId: string | null
  /** Whose events were lost. */
  lost: Array<{ topic?: string; key?: string }>
}

/** The events every stream may carry besides those of its map. */
export interface BuiltInEvents {
  /** Sent by the server when events after the client's `Last-Event-ID` are gone. */
  'history-lost': HistoryLost
}

/** An event map with the built-in events added. */
export type WithBuiltIns<Events extends EventMap> = Omit<Events, keyof BuiltInEvents> &
  BuiltInEvents

/** The names of the events a stream typed by `Events` can deliver. */
export type EventName<Events extends EventMap> = keyof WithBuiltIns<Events> & string

/**
 * One event as the async iterator yields it, discriminated by `event`: checking
 * `event.event === 'tick'` narrows `event.data` to the type of `tick`.
 */
export type ClientEvent<Events extends EventMap> = {
  [Name in EventName<Events>]: {
    /** The event's name (`message` when the server sent none). */
    event: Name
    /** The event's data: parsed JSON, or the text for events read raw. */
    data: WithBuiltIns<Events>[Name]
    /** The event's own `id:`, if it carried one. */
    id: string | undefined
  }
}[EventName<Events>]

/** What a listener gets besides the data. */
export interface EventMeta {
  /** The event's name (`message` when the server sent none). */
  event: string
  /** The event's own `id:`, if it carried one. */
  id: string | undefined
  /** The id the client resumes from after this event (the last `id:` seen so far). */
  lastEventId: string | undefined
}

/** A listener of one event, as `stream.on(name, listener)` takes it. */
export type EventListener<Data> = (data: Data, meta: EventMeta) => void

/**
 * Why a stream ended. It ends only for one of these reasons; every other failure (a network
 * error, a 5xx, a 408 or 429, a stall, the server ending the response) is followed by a
 * reconnect.
 */
export type CloseReason =
  /** `close()` was called, the `signal` aborted, or an iterator loop was left. */
  | { type: 'aborted'; reason?: unknown }
  /** The server answered `204 No Content`: the documented way to say "stop reconnecting". */
  | { type: 'no-content' }
  /** Any status but 200, 204, 408, 429 and 5xx (401, 403, 404, 3xx not followed, ...). */
  | { type: 'status'; status: number }
  /** A `200` whose `Content-Type` is not `text/event-stream`. */
  | { type: 'content-type'; contentType: string | null }
  /**
   * A stream started by a method other than GET was cut (or its request failed) and the server
   * named no `SSE-Resume` location: the request is never sent again (C32).
   */
  | { type: 'no-resume-location'; status?: number; error?: unknown }
  /** An event's data is not valid JSON and the event is not read raw. */
  | { type: 'invalid-data'; event: string; id: string | undefined; error: unknown }
