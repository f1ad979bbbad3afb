import type { ServerResponse } from 'node:http'
import { request as httpRequest } from 'node:http'
import {
  type CallHandler,
  type CanActivate,
  Controller,
  type ExecutionContext,
  HttpException,
  type MessageEvent,
  Module,
  type NestInterceptor,
  ParseIntPipe,
  Query,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common'
import type { SseStream } from '@sse/core'
import { finalize, interval, map, NEVER, Observable, of, timeout } from 'rxjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LastEventId, SSE_ERROR_EVENT, SseModule, SseRoute } from '../src'
import { type App, events, get, nest, platforms, sleep, startApp, waitFor } from './helpers'

const calls = { guarded: 0, finalized: 0 }
const late = { guards: 0, subscribed: 0, finished: 0 }
const handedOver = { values: [] as unknown[], finished: 0 }

class Deny implements CanActivate {
  canActivate() {
    return false
  }
}

/** Lets the request through only once its client has gone (the response has closed). */
class UntilClientLeaves implements CanActivate {
  async canActivate(context: ExecutionContext) {
    const reply = context.switchToHttp().getResponse<{ raw?: ServerResponse } & ServerResponse>()
    const res = reply.raw ?? reply
    late.guards++
    await new Promise((resolve) => res.once('close', resolve))
    return true
  }
}

/** Counts the requests whose interceptor chain has finished (SseInterceptor inside it). */
class CountFinished implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler) {
    return next.handle().pipe(
      finalize(() => {
        late.finished++
      }),
    )
  }
}

/** A global-style `timeout()` that also records what the chain emits and when it finishes. */
class TimeoutAndWatch implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler) {
    return next.handle().pipe(
      timeout(100),
      map((value) => {
        handedOver.values.push(value)
        return value
      }),
      finalize(() => {
        handedOver.finished++
      }),
    )
  }
}

@Controller()
class StreamController {
  @SseRoute('ticks')
  ticks(): Observable<MessageEvent> {
    return interval(10).pipe(map((n) => ({ type: 'tick', data: { n }, id: `t${n}` })))
  }

  @SseRoute('finite', { retry: 1234, retryJitter: 0 })
  finite(): Observable<MessageEvent | string> {
    return of('one', { data: 'two' })
  }

  @SseRoute('guarded')
  @UseGuards(Deny)
  guarded(): Observable<MessageEvent> {
    calls.guarded++
    return NEVER
  }

  @SseRoute('late')
  @UseGuards(UntilClientLeaves)
  @UseInterceptors(CountFinished)
  late(): Observable<MessageEvent> {
    return new Observable<MessageEvent>(() => {
      late.subscribed++
    })
  }

  @SseRoute('handed-over')
  @UseInterceptors(TimeoutAndWatch)
  handedOver(): Observable<MessageEvent> {
    return interval(50).pipe(map((n) => ({ data: { n } })))
  }

  @SseRoute('piped')
  piped(@Query('n', ParseIntPipe) n: number): Observable<MessageEvent> {
    return of({ data: { n } })
  }

  @SseRoute('fails')
  fails(@Query('http') http?: string): Observable<MessageEvent> {
    const error = http ? new HttpException('Gone for lunch', 409) : new Error('secret detail')
    return new Observable<MessageEvent>((subscriber) => {
      subscriber.next({ data: 'before' })
      setTimeout(() => subscriber.error(error), 20)
    })
  }

  @SseRoute('bad-field')
  badField(): Observable<MessageEvent> {
    return of({ data: 'x', type: 'bad\nname' })
  }

  @SseRoute('watched')
  watched(): Observable<MessageEvent> {
    return NEVER.pipe(
      finalize(() => {
        calls.finalized++
      }),
    )
  }

  @SseRoute('cursor')
  cursor(@LastEventId() lastEventId?: string) {
    return (session: SseStream) => {
      session.send({ data: lastEventId ?? 'none' })
      session.close()
    }
  }

  @SseRoute('generator')
  async *generator(
    @Query('fail') fail?: string,
    @Query('bad') bad?: string,
  ): AsyncGenerator<MessageEvent> {
    yield { data: 'a' }
    if (bad) yield { type: 'bad\nname', data: 'x' }
    yield { type: 'named', data: { b: true } }
    if (fail) throw new HttpException('Bad generator', 422)
  }

  @SseRoute('throws')
  throws(): Observable<MessageEvent> {
    throw new HttpException('No stream for you', 418)
  }

  @SseRoute('unsupported')
  unsupported() {
    return 42 as unknown as Observable<MessageEvent>
  }

  @SseRoute('async')
  async later(): Promise<Observable<MessageEvent>> {
    await sleep(5)
    return of({ data: 'resolved' })
  }
}

@Module({
  imports: [SseModule.forRoot({ heartbeat: 40 })],
  controllers: [StreamController],
})
class AppModule {}

describe.each(platforms)(`@SseRoute() on %s, ${nest}`, (platform) => {
  let server: App
  beforeAll(async () => {
    server = await startApp(platform, AppModule, (app) =>
      app.enableCors({ origin: 'http://allowed.test' }),
    )
  })
  afterAll(() => server.close())

  it('streams an Observable of MessageEvents with the stream head and heartbeats', async () => {
    const res = await get(`${server.url}/ticks`, { Origin: 'http://allowed.test' })
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(res.headers['cache-control']).toBe('no-cache, no-transform')
    // enableCors() headers survive on the raw stream response (C05).
    expect(res.headers['access-control-allow-origin']).toBe('http://allowed.test')
    await waitFor('three ticks', () => events(res.text).length >= 3)
    expect(events(res.text).slice(0, 3)).toEqual([
      { event: 'tick', id: 't0', data: '{"n":0}' },
      { event: 'tick', id: 't1', data: '{"n":1}' },
      { event: 'tick', id: 't2', data: '{"n":2}' },
    ])
    res.destroy()
  })

  it('sends the first frame at once and heartbeats while idle', async () => {
    const res = await get(`${server.url}/watched`)
    await waitFor(
      'a heartbeat after the retry frame',
      () => /^retry: \d+\n\n/.test(res.text) && res.text.includes(':\n\n'),
    )
    res.destroy()
  })

  it('ends the stream when the Observable completes, with the route options', async () => {
    const res = await get(`${server.url}/finite`)
    await res.end
    expect(res.ended).toBe(true)
    expect(res.text.startsWith('retry: 1234\n\n')).toBe(true)
    expect(events(res.text)).toEqual([{ data: 'one' }, { data: 'two' }])
  })

  it('answers a guard that denies with a normal 403 JSON response, before any stream', async () => {
    const before = calls.guarded
    const res = await get(`${server.url}/guarded`)
    await res.end
    expect(res.status).toBe(403)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    expect(JSON.parse(res.text)).toMatchObject({ statusCode: 403, message: 'Forbidden resource' })
    expect(calls.guarded).toBe(before)
  })

  it('ends at once, never subscribing, when the client left while a guard ran', async () => {
    const before = { ...late }
    const req = httpRequest(`${server.url}/late`, { agent: false })
    req.on('error', () => {})
    req.end()
    await waitFor('the guard', () => late.guards > before.guards)
    req.destroy()
    await waitFor('the interceptor chain to finish', () => late.finished > before.finished)
    expect(late.subscribed).toBe(before.subscribed)
  })

  it("completes the interceptor chain once the stream is open: Nest lets go, an interceptor's timeout() does not end the stream", async () => {
    const before = { values: handedOver.values.length, finished: handedOver.finished }
    const res = await get(`${server.url}/handed-over`)
    await waitFor('the chain to complete', () => handedOver.finished > before.finished)
    expect(handedOver.values.slice(before.values)).toEqual([undefined])
    // Well past the interceptor's 100 ms timeout, the stream goes on.
    await waitFor('eight events', () => events(res.text).length >= 8)
    expect(res.ended).toBe(false)
    expect(events(res.text).slice(0, 8)).toEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((n) => ({ data: `{"n":${n}}` })),
    )
    res.destroy()
  })

  it('answers a pipe that fails with a 400 before the stream opens', async () => {
    const bad = await get(`${server.url}/piped?n=abc`)
    await bad.end
    expect(bad.status).toBe(400)
    expect(JSON.parse(bad.text)).toMatchObject({ statusCode: 400 })
    const good = await get(`${server.url}/piped?n=7`)
    await waitFor('the piped value', () => events(good.text).length === 1)
    expect(events(good.text)).toEqual([{ data: '{"n":7}' }])
    good.destroy()
  })

  it('lets exception filters answer a handler that throws, or returns no source', async () => {
    const thrown = await get(`${server.url}/throws`)
    await thrown.end
    expect(thrown.status).toBe(418)
    expect(JSON.parse(thrown.text)).toMatchObject({ statusCode: 418, message: 'No stream for you' })
    const unsupported = await get(`${server.url}/unsupported`)
    await unsupported.end
    expect(unsupported.status).toBe(500)
    expect(unsupported.headers['content-type']).toMatch(/^application\/json/)
  })

  it('turns an error after open into a stream-error event, then ends the stream', async () => {
    const res = await get(`${server.url}/fails`)
    await res.end
    expect(res.status).toBe(200)
    expect(events(res.text)).toEqual([
      { data: 'before' },
      {
        event: SSE_ERROR_EVENT,
        data: JSON.stringify({ statusCode: 500, message: 'Internal server error' }),
      },
    ])
    const http = await get(`${server.url}/fails?http=1`)
    await http.end
    expect(events(http.text).at(-1)).toEqual({
      event: SSE_ERROR_EVENT,
      data: JSON.stringify({ statusCode: 409, message: 'Gone for lunch' }),
    })
  })

  it('reports an invalid event field the same way, without crashing', async () => {
    const res = await get(`${server.url}/bad-field`)
    await res.end
    const [error] = events(res.text)
    expect(error?.event).toBe(SSE_ERROR_EVENT)
    // From an async iterable too (pipe's onError), with no unhandled rejection.
    const piped = await get(`${server.url}/generator?bad=1`)
    await piped.end
    expect(events(piped.text).map((event) => event.event ?? event.data)).toEqual([
      'a',
      SSE_ERROR_EVENT,
    ])
    // The server is still serving.
    const next = await get(`${server.url}/finite`)
    await next.end
    expect(events(next.text)).toHaveLength(2)
  })

  it("runs the Observable's finalizer exactly once when the client leaves", async () => {
    const before = calls.finalized
    const res = await get(`${server.url}/watched`)
    await waitFor('the stream to open', () => res.text.length > 0)
    expect(calls.finalized).toBe(before)
    res.destroy()
    await waitFor('the finalizer', () => calls.finalized === before + 1)
    await sleep(100)
    expect(calls.finalized).toBe(before + 1)
  })

  it('gives the handler the Last-Event-ID through @LastEventId()', async () => {
    const header = await get(`${server.url}/cursor?lastEventId=q`, { 'Last-Event-ID': '41' })
    await header.end
    expect(events(header.text)).toEqual([{ data: '41' }])
    const query = await get(`${server.url}/cursor?lastEventId=q7`)
    await query.end
    expect(events(query.text)).toEqual([{ data: 'q7' }])
    const invalid = await get(`${server.url}/cursor`, { 'Last-Event-ID': 'x'.repeat(5000) })
    await invalid.end
    expect(events(invalid.text)).toEqual([{ data: 'none' }])
  })

  it('streams an async generator and reports its failure', async () => {
    const ok = await get(`${server.url}/generator`)
    await ok.end
    expect(events(ok.text)).toEqual([{ data: 'a' }, { event: 'named', data: '{"b":true}' }])
    const failed = await get(`${server.url}/generator?fail=1`)
    await failed.end
    expect(events(failed.text).at(-1)).toEqual({
      event: SSE_ERROR_EVENT,
      data: JSON.stringify({ statusCode: 422, message: 'Bad generator' }),
    })
  })

  it('waits for a handler that resolves to an Observable', async () => {
    const res = await get(`${server.url}/async`)
    await waitFor('the resolved event', () => events(res.text).length === 1)
    expect(events(res.text)).toEqual([{ data: 'resolved' }])
    res.destroy()
  })
})
