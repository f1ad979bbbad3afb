import {
  type ArgumentsHost,
  Body,
  type CallHandler,
  type CanActivate,
  Catch,
  Controller,
  type ExceptionFilter,
  type ExecutionContext,
  HttpException,
  Module,
  type NestInterceptor,
  Param,
  RequestMethod,
  UnauthorizedException,
  UseFilters,
  UseGuards,
  UseInterceptors,
  ValidationPipe,
} from '@nestjs/common'
import { IsArray, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Max, Min } from 'class-validator'
import { from, NEVER, Observable } from 'rxjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SseHub, type SseMessageEvent, SseModule, SseRoute } from '../src'
import { type App, events, get, nest, platforms, post, send, startApp, waitFor } from './helpers'

type ChatEvents = { token: string; done: { tokens: number; dto: boolean } }

class ChatDto {
  @IsString()
  @IsNotEmpty()
  prompt!: string

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(3)
  repeat?: number
}

class JoinDto {
  @IsArray()
  @IsIn(['red', 'blue'], { each: true })
  topics!: string[]
}

const calls = { chat: 0, stamped: 0 }

class NeedsToken implements CanActivate {
  canActivate(context: ExecutionContext) {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>()
    if (request.headers['x-token'] !== 'secret') throw new UnauthorizedException()
    return true
  }
}

/** A route's own filter: answers 401 in plain text, as a custom error page would. */
@Catch(UnauthorizedException)
class PlainUnauthorized implements ExceptionFilter {
  catch(_error: UnauthorizedException, host: ArgumentsHost) {
    const reply = host.switchToHttp().getResponse()
    if (reply.raw) reply.code(401).header('content-type', 'text/plain').send('who are you?')
    else reply.status(401).type('text/plain').send('who are you?')
  }
}

/** Sets a header through the platform's own API before the handler runs. */
class Stamp implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler) {
    const reply = context.switchToHttp().getResponse()
    if (reply.raw) reply.header('x-stamp', 'before-open')
    else reply.setHeader('x-stamp', 'before-open')
    calls.stamped++
    return next.handle()
  }
}

const validate = new ValidationPipe({
  transform: true,
  whitelist: true,
  forbidNonWhitelisted: true,
})

@Controller()
class ChatController {
  constructor(private readonly hub: SseHub) {}

  @SseRoute<ChatEvents>('chat', { method: 'POST', retry: 1500, retryJitter: 0 })
  @UseGuards(NeedsToken)
  @UseFilters(PlainUnauthorized)
  @UseInterceptors(Stamp)
  chat(@Body(validate) body: ChatDto): Observable<SseMessageEvent<ChatEvents>> {
    calls.chat++
    const tokens = Array.from({ length: body.repeat ?? 1 }, () => body.prompt.split(/(?= )/)).flat()
    return from([
      ...tokens.map((token) => ({ type: 'token' as const, data: token })),
      { type: 'done' as const, data: { tokens: tokens.length, dto: body instanceof ChatDto } },
    ])
  }

  @SseRoute('jobs/:id', { method: RequestMethod.PUT })
  async *job(@Param('id') id: string, @Body() body: { steps: number }) {
    for (let step = 1; step <= body.steps; step++) yield { type: 'step', data: { id, step } }
  }

  @SseRoute('fails', { method: 'POST' })
  fails(@Body() body: { status?: number }) {
    const error = body.status ? new HttpException('Not today', body.status) : new Error('secret')
    return new Observable<string>((subscriber) => {
      subscriber.next('before')
      setTimeout(() => subscriber.error(error), 10)
    })
  }

  @SseRoute('idle', { method: 'POST' })
  idle() {
    return NEVER
  }

  @SseRoute('rooms', { method: 'POST' })
  join(@Body(validate) body: JoinDto) {
    return this.hub.subscribe({ topics: body.topics })
  }
}

@Module({
  imports: [SseModule.forRoot({ errorEvent: 'chat-error', shutdownGrace: 300 })],
  controllers: [ChatController],
})
class AppModule {}

const token = { 'x-token': 'secret' }

describe.each(platforms)(`@SseRoute() with a method on %s, ${nest}`, (platform) => {
  let server: App
  beforeAll(async () => {
    server = await startApp(platform, AppModule)
  })
  afterAll(() => server.close())

  it('streams the answer to a POST whose body a ValidationPipe turned into the DTO', async () => {
    const stamped = calls.stamped
    const res = await post(`${server.url}/chat`, { prompt: 'hello there', repeat: 2 }, token)
    await res.end
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    // The route's interceptor ran before the stream opened, and its header is on the stream.
    expect(res.headers['x-stamp']).toBe('before-open')
    expect(calls.stamped).toBe(stamped + 1)
    expect(res.text.startsWith('retry: 1500\n\n')).toBe(true)
    expect(events(res.text)).toEqual([
      { event: 'token', data: 'hello' },
      { event: 'token', data: ' there' },
      { event: 'token', data: 'hello' },
      { event: 'token', data: ' there' },
      { event: 'done', data: '{"tokens":4,"dto":true}' },
    ])
  })

  it('answers an invalid body with 400 from the pipe, before the handler and any stream', async () => {
    const before = calls.chat
    for (const body of [{}, { prompt: 42 }, { prompt: 'hi', repeat: 9 }, { prompt: 'hi', x: 1 }]) {
      const res = await post(`${server.url}/chat`, body, token)
      await res.end
      expect(res.status).toBe(400)
      expect(res.headers['content-type']).toMatch(/^application\/json/)
      expect(JSON.parse(res.text)).toMatchObject({ statusCode: 400, error: 'Bad Request' })
    }
    expect(calls.chat).toBe(before)
  })

  it("lets the route's guard and exception filter answer before the stream opens", async () => {
    const before = calls.chat
    const res = await post(`${server.url}/chat`, { prompt: 'hi' })
    await res.end
    expect(res.status).toBe(401)
    expect(res.headers['content-type']).toMatch(/^text\/plain/)
    expect(res.text).toBe('who are you?')
    expect(calls.chat).toBe(before)
  })

  it('serves only its method: a GET of a POST stream is 404, a PUT stream works', async () => {
    const wrong = await get(`${server.url}/chat?prompt=hi`, token)
    await wrong.end
    expect(wrong.status).toBe(404)
    const put = await send(`${server.url}/jobs/7`, { method: 'PUT', body: { steps: 2 } })
    await put.end
    expect(put.status).toBe(200)
    expect(events(put.text)).toEqual([
      { event: 'step', data: '{"id":"7","step":1}' },
      { event: 'step', data: '{"id":"7","step":2}' },
    ])
  })

  it("sends the module's errorEvent when a POST stream fails after it opened", async () => {
    const http = await post(`${server.url}/fails`, { status: 409 })
    await http.end
    expect(events(http.text)).toEqual([
      { data: 'before' },
      { event: 'chat-error', data: JSON.stringify({ statusCode: 409, message: 'Not today' }) },
    ])
    const other = await post(`${server.url}/fails`, {})
    await other.end
    expect(events(other.text).at(-1)).toEqual({
      event: 'chat-error',
      data: JSON.stringify({ statusCode: 500, message: 'Internal server error' }),
    })
  })

  it('joins the hub with topics from a validated body', async () => {
    const hub = server.app.get(SseHub)
    const bad = await post(`${server.url}/rooms`, { topics: ['green'] })
    await bad.end
    expect(bad.status).toBe(400)
    const res = await post(`${server.url}/rooms`, { topics: ['red'] })
    await waitFor('the stream to join', () => hub.size === 1)
    await hub.publish('chat', 'to blue', { topic: 'blue' })
    await hub.publish('chat', 'to red', { topic: 'red' })
    await waitFor('the red event', () => events(res.text).length === 1)
    expect(events(res.text)).toEqual([{ event: 'chat', id: expect.any(String), data: 'to red' }])
    res.destroy()
    await waitFor('the hub to forget it', () => hub.size === 0)
  })
})

describe.each(platforms)(`Shutdown of POST streams on %s, ${nest}`, (platform) => {
  it("ends them with the module's beforeApplicationShutdown, so app.close() completes", async () => {
    const server = await startApp(platform, AppModule)
    const own = await post(`${server.url}/idle`, {})
    const member = await post(`${server.url}/rooms`, { topics: ['blue'] })
    await waitFor('both streams', () => own.text !== '' && member.text !== '')
    const started = Date.now()
    await server.close()
    await Promise.all([own.end, member.end])
    expect(own.ended && member.ended).toBe(true)
    // Ended, not dropped after the 300 ms grace: both flushed and finished at once.
    expect(Date.now() - started).toBeLessThan(300)
  })
})

it('refuses an unknown method when the class is declared', () => {
  expect(() => SseRoute('x', { method: 'FETCH' as 'GET' })).toThrow(/unknown method FETCH/)
})
