import type { DurableRef, EventMap, MessageFields, SseStream } from '@sse/core'
import type { Observable } from 'rxjs'
import type { HubObservable } from './hub'

/**
 * One event that an `@SseRoute()` handler's Observable or async iterable emits: Nest's
 * `MessageEvent` shape (`type` is the event name), typed by the application's event map. With a
 * specific map, `type` must be one of its names and `data` that event's type; an event without
 * `type` is an unnamed `message` event. With the default `EventMap` (untyped use) any Nest
 * `MessageEvent` fits.
 *
 * @typeParam M - the application's event map, as given to `SseHub<M>` and `@SseRoute<M>()`
 * @example
 * ```ts
 * type Events = { tick: { n: number }; note: string }
 * const tick: SseMessageEvent<Events> = { type: 'tick', data: { n: 1 }, id: '7' }
 * ```
 */
export type SseMessageEvent<M extends EventMap = EventMap> = string extends keyof M
  ? MessageFields & { type?: string; data?: unknown }
  :
      | {
          [K in keyof M & string]: MessageFields &
            // Like core's `send()`: data may be left out only where the map allows undefined.
            (undefined extends M[K] ? { type: K; data?: M[K] } : { type: K; data: M[K] })
        }[keyof M & string]
      | (MessageFields & {
          type?: undefined
          data?: 'message' extends keyof M ? M['message'] : unknown
        })

/**
 * What an `@SseRoute()` handler returns (or resolves to): an Observable or an async iterable of
 * events (a string is the data of an unnamed event), `hub.subscribe(...)` to join the hub, a
 * durable stream (what `streams.start(...)` resolves to, or `streams.get(id, { owner })`), a
 * function that gets the open stream, or nothing.
 *
 * @typeParam M - the application's event map; the default accepts any Nest `MessageEvent`
 */
export type SseSource<M extends EventMap = EventMap> =
  | Observable<SseMessageEvent<M> | string>
  | AsyncIterable<SseMessageEvent<M> | string>
  | HubObservable<M>
  | DurableRef
  | ((stream: SseStream<M>) => void | Promise<void>)
  | undefined
  | void

/** A route handler whose result is typed by the event map `M`: sync or async, any parameters. */
export type SseRouteHandler<M extends EventMap = EventMap> = (
  // biome-ignore lint/suspicious/noExplicitAny: parameters are Nest's business (@Body(), @Param()...)
  ...args: any[]
) => SseSource<M> | Promise<SseSource<M>>

/**
 * The method decorator that `@SseRoute<M>()` returns: its `TypedPropertyDescriptor` makes the
 * compiler check what the handler returns against `M`. A handler whose event name or data does
 * not match fails with "Unable to resolve signature of method decorator".
 */
export type SseRouteDecorator<M extends EventMap> = <H extends SseRouteHandler<M>>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<H>,
) => void
