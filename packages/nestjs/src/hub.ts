import type { MessageEvent } from '@nestjs/common'
import { type EventMap, Hub, type HubOptions, type Membership, type OpenOptions } from '@sse/core'
import { Observable } from 'rxjs'

/** Options of `SseModule.forRoot()`: the hub's store and limits, and defaults for every stream. */
export interface SseModuleOptions extends HubOptions {
  /**
   * The query parameter read as the resume cursor when there is no `Last-Event-ID` header;
   * `false` ignores the query string.
   * @default 'lastEventId'
   */
  cursorParam?: OpenOptions['cursorParam']
  /**
   * The event sent when a handler's source fails after the stream opened (data: JSON
   * `{ statusCode, message }`), just before the stream ends; `false` sends none.
   * @default 'stream-error'
   */
  errorEvent?: string | false
  /**
   * How long open streams get to flush when the application closes, in milliseconds; then their
   * connections are dropped so that `app.close()` completes.
   * @default 5000
   */
  shutdownGrace?: number
}

/**
 * The live events of a hub that match a membership, as an Observable of Nest `MessageEvent`s
 * (`data` is the stored text; no `id`, since a cursor belongs to a stream). Returned from an
 * `@SseRoute()` handler as it is, it does more: the stream joins the hub, so its events carry
 * cursors, and a reconnecting client first gets the events it missed (from its `Last-Event-ID`)
 * and then the live ones, with no gap and no duplicate.
 */
export class HubObservable<M extends EventMap = EventMap> extends Observable<MessageEvent> {
  /**
   * @param hub - the hub whose events to follow
   * @param membership - the topics and key to follow
   */
  constructor(
    /** The hub whose events it follows; a stream that joins takes its store and limits. */
    readonly hub: Hub<M>,
    /** The topics and key it follows. */
    readonly membership: Membership = {},
  ) {
    super((subscriber) =>
      hub.watch(membership, (event) => subscriber.next({ type: event.event, data: event.data })),
    )
  }
}

/**
 * The application's hub, injectable anywhere once `SseModule` is imported: publish events
 * (stored, so they get ids and can be replayed) to every stream, a topic, or a key, and
 * subscribe to them as Observables.
 *
 * @typeParam M - the application's event map, which types `publish`.
 * @example
 * ```ts
 * @Controller('chat')
 * export class ChatController {
 *   constructor(private readonly hub: SseHub) {}
 *
 *   @SseRoute(':room')
 *   stream(@Param('room') room: string) {
 *     return this.hub.subscribe({ topics: [room] })
 *   }
 *
 *   @Post(':room')
 *   async post(@Param('room') room: string, @Body() body: { text: string }) {
 *     await this.hub.publish('message', body, { topic: room })
 *     return { ok: true }
 *   }
 * }
 * ```
 */
export class SseHub<M extends EventMap = EventMap> extends Hub<M> {
  /** How long open streams get to flush when the application closes, in milliseconds. */
  readonly shutdownGrace: number

  constructor(options: SseModuleOptions = {}) {
    const { cursorParam: _, errorEvent: __, shutdownGrace, ...hubOptions } = options
    super(hubOptions)
    this.shutdownGrace = shutdownGrace ?? 5000
  }

  /**
   * The events published to these topics (and to everyone, and to this key). Return it from an
   * `@SseRoute()` handler to get replay then live; subscribe to it anywhere else for live events.
   */
  subscribe(membership: Membership = {}): HubObservable<M> {
    return new HubObservable(this, membership)
  }
}
