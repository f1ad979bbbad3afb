/**
 * The events an application declares, by name, with the type of each event's data. Use it as
 * the generic of streams and hubs so `send('tick', { n: 1 })` is checked. A `type` or an
 * `interface` both work; an event whose data type allows `undefined` can be sent without data.
 *
 * @example
 * ```ts
 * interface Events {
 *   tick: { n: number }
 *   notice: string
 *   ping: undefined
 * }
 * ```
 */
// `any`, not `unknown`: an interface has no implicit index signature, so it is assignable to
// `Record<string, any>` but not to `Record<string, unknown>` (TS2344).
// biome-ignore lint/suspicious/noExplicitAny: see above
export type EventMap = Record<string, any>

/** Fields shared by every message, whatever its event name. */
export interface MessageFields {
  /**
   * The event id. The client sends the last id it saw back in `Last-Event-ID` when it
   * reconnects. Must not contain CR, LF or NUL. Numbers must be non-negative safe integers.
   * With a hub, ids are assigned by the store and this field is not used.
   */
  id?: string | number
  /** Reconnection delay in milliseconds, a non-negative integer. */
  retry?: number
  /** A comment written before the event's fields. May span several lines. */
  comment?: string
}

/**
 * One message on the stream, typed against an {@link EventMap}: a named event with the data
 * its name declares, or an unnamed (`message`) event.
 */
export type SseMessage<M extends EventMap = EventMap> =
  | {
      [K in keyof M & string]: MessageFields & {
        /** The event name; the browser dispatches it to `addEventListener(name)`. */
        event: K
        /** The event data: strings are sent as text, anything else through the serializer. */
        data?: M[K]
      }
    }[keyof M & string]
  | (MessageFields & {
      event?: undefined
      data?: 'message' extends keyof M ? M['message'] : unknown
    })

/**
 * `(event, data, ...Rest)` for each event of the map, with `data` optional where the event's type
 * allows `undefined`: the shape shared by `send` and `publish`.
 */
export type EventArgs<M extends EventMap, Rest extends unknown[]> = {
  [K in keyof M & string]: undefined extends M[K]
    ? [event: K, data?: M[K], ...rest: Rest]
    : [event: K, data: M[K], ...rest: Rest]
}[keyof M & string]

/** Turns a non-string data value into the text sent on the wire. */
export type Serializer = (data: unknown) => string
