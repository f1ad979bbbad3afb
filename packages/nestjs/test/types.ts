/**
 * Type tests, checked by `tsc --noEmit` (typecheck, and typecheck:nest11 against NestJS 11):
 * each `@ts-expect-error` fails the check if the line it guards stops being an error, so
 * removing the typing of `@SseRoute<Events>()` fails the build.
 */
import {
  applyDecorators,
  Body,
  Controller,
  type MessageEvent,
  RequestMethod,
  UseGuards,
} from '@nestjs/common'
import type { SseStream } from '@sse/core'
import { from, interval, map, type Observable, of } from 'rxjs'
import { type SseHub, type SseMessageEvent, SseRoute } from '../src'

type Events = { tick: { n: number }; note: string; ping: undefined }
type Request = { user: { id: string } }

class NoteDto {
  text!: string
}

// Untyped, the decorator is a plain MethodDecorator and composes like any other.
export const Stream = (path: string) => applyDecorators(SseRoute(path), UseGuards())

@Controller()
export class TypedController {
  constructor(private readonly hub: SseHub<Events>) {}

  @SseRoute<Events>('ticks')
  ticks(): Observable<SseMessageEvent<Events>> {
    // The return type reaches map(): 'tick' stays a literal.
    return interval(1000).pipe(map((n) => ({ type: 'tick', data: { n }, id: n })))
  }

  @SseRoute<Events>('mixed', { method: 'POST' })
  mixed(@Body() body: NoteDto) {
    // of(a, b) widens 'note' to string; an annotated array keeps the names.
    const events: (SseMessageEvent<Events> | string)[] = [
      { type: 'note', data: body.text },
      { type: 'ping' },
      { data: 'an unnamed message event' },
      'a string is the data of an unnamed event',
    ]
    return from(events)
  }

  @SseRoute<Events>('notes', { method: RequestMethod.PUT })
  async *notes(): AsyncGenerator<SseMessageEvent<Events>> {
    yield { type: 'note', data: 'from a generator', retry: 2000 }
  }

  @SseRoute<Events>('room')
  room() {
    return this.hub.subscribe({ topics: ['room'] })
  }

  @SseRoute<Events>('session')
  session() {
    return (stream: SseStream<Events>) => {
      stream.send('tick', { n: 1 })
      // @ts-expect-error the data of 'tick' is { n: number }
      stream.send('tick', { n: 'one' })
    }
  }

  @SseRoute<Events>('later')
  async later(): Promise<Observable<SseMessageEvent<Events>>> {
    return of({ type: 'tick', data: { n: 1 } })
  }

  @SseRoute<Events>('nothing', (request: Request) => ({ key: request.user.id }))
  nothing() {}

  // @ts-expect-error the data of 'tick' is { n: number }
  @SseRoute<Events>('wrong-data')
  wrongData() {
    return of({ type: 'tick' as const, data: { n: 'one' } })
  }

  // @ts-expect-error 'tock' is not an event of Events
  @SseRoute<Events>('wrong-name')
  wrongName(): Observable<{ type: 'tock'; data: number }> {
    return of({ type: 'tock', data: 1 })
  }

  // @ts-expect-error 'note' carries a string
  @SseRoute<Events>('wrong-generator')
  async *wrongGenerator() {
    yield { type: 'note' as const, data: 42 }
  }

  // @ts-expect-error a plain object is not a source
  @SseRoute<Events>('not-a-source')
  notASource() {
    return { type: 'note', data: 'x' }
  }

  // @ts-expect-error Nest's MessageEvent names no event of Events
  @SseRoute<Events>('nest-event')
  nestEvent(): Observable<MessageEvent> {
    return of({ data: 'x', type: 'anything' })
  }
}

@Controller()
export class UntypedController {
  // Untyped routes take any Nest MessageEvent, as before.
  @SseRoute('events')
  events(): Observable<MessageEvent> {
    return of({ type: 'anything', data: { n: 1 } })
  }

  @SseRoute('me', (request: Request) => ({ key: request.user.id }))
  me() {
    return (stream: SseStream) => stream.send({ event: 'hello', data: 1 })
  }
}

// @ts-expect-error methods are RequestMethod values or their names
SseRoute('x', { method: 'FETCH' })
// @ts-expect-error stream options are checked
SseRoute<Events>('x', { heartbeat: 'often' })
// @ts-expect-error a function of the request gives stream options, not the method
SseRoute('x', () => ({ method: 'POST' }))
