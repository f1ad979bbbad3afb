import {
  applyDecorators,
  createParamDecorator,
  type ExecutionContext,
  RequestMapping,
  RequestMethod,
  Res,
  SetMetadata,
  UseInterceptors,
} from '@nestjs/common'
import type { EventMap, OpenOptions } from '@sse/core'
import { readCursor } from '@sse/core/adapter'
import type { NodeRequest } from '@sse/core/node'
import { from } from 'rxjs'
import type { SseRouteDecorator } from './events'
import { ROUTE_OPTIONS, SseInterceptor } from './interceptor'

/** An HTTP method, as Nest's `RequestMethod` or its name: `RequestMethod.POST` or `'POST'`. */
export type SseRouteMethod = RequestMethod | keyof typeof RequestMethod

/**
 * Options of one `@SseRoute()` route: its HTTP method, and stream options over the module's
 * (heartbeat, retry, lifetime, buffer, serializer, cursor parameter; `hub`/`topics`/`key` to
 * join a hub).
 *
 * @typeParam M - the event map of the `hub`, when one is given
 */
// biome-ignore lint/suspicious/noExplicitAny: `any`, so that options with a hub of any event map fit
export interface SseRouteOptions<M extends EventMap = any> extends OpenOptions<M> {
  /**
   * The route's HTTP method, as in Nest's `@Sse(path, { method })`. A stream answers the
   * request that asked for it, so a POST with a body (`@Body()`) gets its stream as the answer.
   * @default RequestMethod.GET
   */
  method?: SseRouteMethod
}

type Handler = (...args: unknown[]) => unknown

/**
 * Wraps the handler so that its result reaches the interceptor as one value, after guards,
 * pipes and the handler itself ran, and makes Nest leave the response alone (as with `@Res()`).
 */
const takeOverResponse: MethodDecorator = (target, key, descriptor) => {
  const original = descriptor.value as unknown as Handler
  const paramtypes = Reflect.getMetadata('design:paramtypes', target, key) as unknown[] | undefined
  const arity = Math.max(original.length, paramtypes?.length ?? 0)
  const handler = function (this: unknown, ...args: unknown[]) {
    return from(Promise.resolve(original.apply(this, args.slice(0, arity))))
  }
  for (const name of Reflect.getOwnMetadataKeys(original)) {
    Reflect.defineMetadata(name, Reflect.getOwnMetadata(name, original), handler)
  }
  Object.defineProperty(handler, 'name', { value: original.name })
  descriptor.value = handler as typeof descriptor.value
  Res()(target, key, arity)
}

function requestMethod(method: SseRouteMethod = RequestMethod.GET): RequestMethod {
  const value = typeof method === 'string' ? RequestMethod[method] : method
  if (typeof value !== 'number' || RequestMethod[value] === undefined) {
    throw new TypeError(`@SseRoute(): unknown method ${String(method)}`)
  }
  return value
}

/**
 * Makes the route an event stream with heartbeat, store-assigned ids, resume and flow control
 * from `@sse/core`: `GET` unless `options.method` says otherwise. Guards, pipes, interceptors
 * and exception filters run before the stream opens, so a failed `@Body()` validation answers
 * `400` and nothing is streamed. The handler returns an Observable or an async iterable (a Node
 * ReadableStream is one) of Nest `MessageEvent`s, `hub.subscribe(...)` for a resumable
 * broadcast, a durable stream (`streams.start(...)` on a POST, `streams.get(id, { owner })` on
 * the GET that resumes it), or a function that gets the open stream.
 *
 * `@SseRoute<Events>()` checks what the handler returns against the application's event map
 * (see {@link SseMessageEvent}); without it, any `MessageEvent` goes.
 *
 * @param path - the route path, as for `@Get()`
 * @param options - the method and stream options over the module's; or a function of the
 *   framework's request returning stream options (the route is then a `GET`)
 * @example
 * ```ts
 * @SseRoute<Events>('clock', { heartbeat: 10_000 })
 * clock(): Observable<SseMessageEvent<Events>> {
 *   return interval(1000).pipe(map((n) => ({ type: 'tick', data: { n } })))
 * }
 *
 * @SseRoute<ChatEvents>('chat', { method: 'POST' })
 * chat(@Body() body: ChatDto) {
 *   return (stream: SseStream<ChatEvents>) => stream.pipe(answer(body.prompt))
 * }
 *
 * // Durable: the answer outlives the request and resumes by GET at chat/:id.
 * @SseRoute<ChatEvents>('chat', { method: 'POST' })
 * start(@Body() body: ChatDto, @Headers('x-user') owner: string) {
 *   return this.chats.start({ owner, produce: (out) => answerTo(body.prompt, out) })
 * }
 * ```
 */
export function SseRoute(
  path?: string | string[],
  // biome-ignore lint/suspicious/noExplicitAny: any request type, as the function's annotation says
  options?: SseRouteOptions | ((request: any) => OpenOptions),
): MethodDecorator
/**
 * The typed form, `@SseRoute<Events>(path?, options?)`: the same route, and the compiler checks
 * that the handler returns events of `Events` (see {@link SseMessageEvent}).
 *
 * @typeParam M - the application's event map
 * @typeParam Req - the framework's request, for the function form of `options`
 * @example
 * ```ts
 * @SseRoute<Events>('notes', { method: 'POST' })
 * async *notes(@Body() body: NoteDto): AsyncGenerator<SseMessageEvent<Events>> {
 *   yield { type: 'note', data: body.text }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noExplicitAny: as above; `<Events, Req>` may name it
export function SseRoute<M extends EventMap, Req = any>(
  path?: string | string[],
  options?: SseRouteOptions<M> | ((request: Req) => OpenOptions<M>),
): SseRouteDecorator<M>
export function SseRoute(
  path?: string | string[],
  options: SseRouteOptions | ((request: unknown) => OpenOptions) = {},
): MethodDecorator {
  const { method, ...stream } = typeof options === 'function' ? { method: undefined } : options
  return applyDecorators(
    takeOverResponse,
    RequestMapping({ path, method: requestMethod(method) }),
    SetMetadata(ROUTE_OPTIONS, typeof options === 'function' ? options : stream),
    UseInterceptors(SseInterceptor),
  )
}

/**
 * Parameter decorator: the valid `Last-Event-ID` the client sent (header, else the query
 * parameter), or undefined. Malformed or overlong values read as undefined.
 *
 * @example `events(@LastEventId() lastEventId?: string)`
 */
export const LastEventId = createParamDecorator(
  (param: string | false | undefined, context: ExecutionContext): string | undefined => {
    const request = context.switchToHttp().getRequest<{ raw?: NodeRequest } & NodeRequest>()
    const raw = request.raw ?? request
    return readCursor(raw.headers['last-event-id'], raw.url, param).id
  },
)
