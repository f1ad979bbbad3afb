import {
  type CallHandler,
  type ExecutionContext,
  HttpException,
  Inject,
  Injectable,
  Logger,
  type NestInterceptor,
  Optional,
} from '@nestjs/common'
import {
  type DurableRef,
  DurableStreams,
  type OpenOptions,
  type SseMessage,
  type SseStream,
} from '@sse/core'
import { dropStream, failStream, onStreamClose } from '@sse/core/adapter'
import { type NodeRequest, type NodeResponse, openNodeStream } from '@sse/core/node'
import { isObservable, Observable } from 'rxjs'
import type { SseMessageEvent, SseSource } from './events'
import { HubObservable, type SseModuleOptions } from './hub'
import { SSE_MODULE_OPTIONS } from './module'

/** The default `errorEvent`: sent when the handler's source fails after the stream opened. */
export const SSE_ERROR_EVENT = 'stream-error'

/** The metadata key of a route's stream options (or the function of the request giving them). */
export const ROUTE_OPTIONS = Symbol('sse:route')

/** What `ROUTE_OPTIONS` holds: stream options over the module's, or a function of the request. */
export type RouteStreamOptions = OpenOptions | ((request: unknown) => OpenOptions)

type FrameworkRequest = { raw?: NodeRequest } & NodeRequest
type FrameworkReply = { raw?: NodeResponse; hijack?: () => void; getHeaders?: () => object }

/** Where a request is between the handler and the open stream. */
interface StreamLife {
  /** Nest let go of the request before the stream opened (its client left, a timeout). */
  gone: boolean
  /** The stream opened and the chain completed: the response is no longer Nest's. */
  handedOver: boolean
}

function toMessage(event: SseMessageEvent | string): SseMessage {
  if (typeof event === 'string') return { data: event }
  const { type, data, id, retry, comment } = event
  return { event: type, data, id, retry, comment }
}

/** A durable stream from `streams.start(...)` or `streams.get(...)`: the stream reads it. */
function isDurable(value: unknown): value is DurableRef {
  return (value as Partial<DurableRef> | null)?.streams instanceof DurableStreams
}

function isSource(value: object): boolean {
  // Node's ReadableStream is async-iterable too.
  return typeof value === 'function' || isObservable(value) || Symbol.asyncIterator in value
}

/**
 * Opens the stream of an `@SseRoute()` route on the raw Node response (hijacking Fastify's
 * reply) and feeds it from what the handler returned. Applied by `@SseRoute()`, whatever the
 * route's method: by then guards, pipes (a `@Body()` DTO's validation) and the handler ran.
 */
@Injectable()
export class SseInterceptor implements NestInterceptor {
  readonly #logger = new Logger('SseRoute')

  constructor(
    // An explicit token, so injection never depends on the parameter types a compiler emits.
    @Optional() @Inject(SSE_MODULE_OPTIONS) private readonly options: SseModuleOptions = {},
  ) {}

  /**
   * Lets the handler run, then opens the stream on what it returned; emits one `undefined` and
   * completes once the stream is open. From then on the response is the stream's, as it would be
   * a handler's with `@Res()`: Nest lets go of the request (its interceptors and their
   * subscribers are not kept for the stream's life: 12 KB of heap per open stream), and an
   * interceptor's `timeout()` no longer reaches the stream.
   */
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp()
    const request = http.getRequest<FrameworkRequest>()
    const reply = http.getResponse<FrameworkReply>()
    const route: RouteStreamOptions = Reflect.getMetadata(ROUTE_OPTIONS, context.getHandler()) ?? {}
    return new Observable((done) => {
      // What the teardown tells the opening: plain fields, not an AbortController and its
      // listener.
      const life: StreamLife = { gone: false, handedOver: false }
      const end = () => {
        life.handedOver = true
        done.next(undefined)
        done.complete()
      }
      const handled = next.handle().subscribe({
        next: (result) => {
          this.#open(request, reply, route, result as SseSource, life, end).catch((error) =>
            done.error(error),
          )
        },
        error: (error) => done.error(error),
      })
      return () => {
        handled.unsubscribe()
        if (!life.handedOver) life.gone = true
      }
    })
  }

  async #open(
    request: FrameworkRequest,
    reply: FrameworkReply,
    route: RouteStreamOptions,
    result: SseSource,
    life: StreamLife,
    end: () => void,
  ): Promise<void> {
    const joins = result instanceof HubObservable
    const durable = isDurable(result)
    if (result != null && !joins && !durable && !isSource(result)) {
      throw new TypeError(
        'An @SseRoute() handler must return an Observable, an async iterable, a ReadableStream, a function or a durable stream',
      )
    }
    const options: OpenOptions = {
      ...this.options,
      ...(typeof route === 'function' ? route(request) : route),
      ...(joins ? { hub: result.hub, ...result.membership } : {}),
      ...(durable ? { durable: result } : {}),
    }
    const res = (reply.raw ?? reply) as NodeResponse
    if (reply.raw) {
      // Fastify keeps reply.header() values (CORS, @Header()) on the reply until it sends; the
      // stream is written to the raw response, so they move there before Fastify lets go.
      for (const [name, value] of Object.entries(reply.getHeaders?.() ?? {})) {
        if (value !== undefined) res.setHeader(name, value)
      }
      reply.hijack?.()
    }
    const stream = await openNodeStream(request.raw ?? request, res, options).catch((error) => {
      // Nest's exception filters can answer only while Fastify's reply is not hijacked.
      if (!reply.raw && !res.headersSent) throw error
      this.#logger.error(error)
      res.destroy()
    })
    if (!stream) return end()
    // A client that left while guards or the handler ran is already closed by core; this is
    // Nest itself letting go of the request meanwhile.
    if (life.gone) dropStream(stream)
    end()
    if (stream.closed) return
    const fail = (error: unknown) => this.#fail(stream, error)
    // A hub or a durable stream's producer feeds it: nothing of the handler's to read.
    if (joins || durable || result == null) return
    if (typeof result === 'function') {
      Promise.resolve()
        .then(() => result(stream))
        .catch(fail)
    } else if (isObservable(result)) {
      const subscription = result.subscribe({
        next: (event) => {
          try {
            stream.send(toMessage(event))
          } catch (error) {
            fail(error)
          }
        },
        error: fail,
        complete: () => stream.close(),
      })
      // Not stream.signal: its AbortController and listener would live as long as the stream.
      if (stream.closed) subscription.unsubscribe()
      else onStreamClose(stream, () => subscription.unsubscribe())
    } else {
      // Never rejects: a failing source is logged and told to the client by errorMessage.
      void stream.pipe(result, {
        map: toMessage,
        errorMessage: (error) => this.#report(error),
        onError: () => {},
      })
    }
  }

  /** Tells the client the stream failed with the `errorEvent`, then ends it. */
  #fail(stream: SseStream, error: unknown): void {
    const last = this.#report(error)
    if (stream.closed) return
    if (last) stream.send(last)
    failStream(stream)
  }

  /** Logs a failure after the stream opened (not an HttpException), and returns the `errorEvent`. */
  #report(error: unknown): SseMessage | undefined {
    const known = error instanceof HttpException
    if (!known) this.#logger.error(error)
    const event = this.options.errorEvent ?? SSE_ERROR_EVENT
    if (event === false) return undefined
    const statusCode = known ? error.getStatus() : 500
    const message = known ? error.message : 'Internal server error'
    return { event, data: JSON.stringify({ statusCode, message }) }
  }
}
