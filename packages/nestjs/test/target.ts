import 'reflect-metadata'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  type ArgumentsHost,
  type CallHandler,
  type CanActivate,
  Catch,
  Controller,
  Delete,
  type ExceptionFilter,
  type ExecutionContext,
  Headers,
  HttpCode,
  type INestApplication,
  Module,
  type NestInterceptor,
  NotFoundException,
  Param,
  Req,
  UseFilters,
  UseGuards,
} from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { ExpressAdapter } from '@nestjs/platform-express'
import { FastifyAdapter } from '@nestjs/platform-fastify'
import type { SseStream } from '@sse/core'
import type { NodeRequest } from '@sse/core/node'
import type {
  ConformanceTarget,
  DurableScenario,
  RequestInfo,
  StreamScenario,
} from '@sse/test-utils'
import { SseModule, SseRoute } from '../src'
import { nest } from './helpers'

type Platform = 'express' | 'fastify' | 'fastify-h2c'

function info(request: { raw?: NodeRequest } & NodeRequest): RequestInfo {
  const raw = request.raw ?? request
  return { url: raw.url ?? '/', headers: raw.headers }
}

class Refusal {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {}
}

/** Durable streams as a Nest controller serves them: the handlers return the stream. */
function durableController({ streams, produce }: DurableScenario) {
  @Controller('durable')
  class DurableController {
    @SseRoute('', { method: 'POST' })
    start(@Headers('x-user') owner?: string, @Headers('idempotency-key') idempotencyKey?: string) {
      return streams.start({ owner, idempotencyKey, produce })
    }

    @SseRoute(':id')
    resume(@Param('id') id: string, @Headers('x-user') owner?: string) {
      return streams.get(id, { owner })
    }

    @Delete(':id')
    @HttpCode(204)
    async cancel(@Param('id') id: string, @Headers('x-user') owner?: string) {
      if (!(await streams.cancel(id, { owner }))) throw new NotFoundException()
    }
  }
  return DurableController
}

function appModule(scenario: StreamScenario) {
  /** Refuses before the stream opens, the Nest way: a guard. */
  class Refuse implements CanActivate {
    canActivate(context: ExecutionContext) {
      const refusal = scenario.refuse?.(info(context.switchToHttp().getRequest()))
      if (refusal) throw new Refusal(refusal.status, refusal.body ?? '')
      return true
    }
  }

  /** Answers a refusal with its exact status and plain body (Nest's own filter would send JSON). */
  @Catch(Refusal)
  class SendRefusal implements ExceptionFilter {
    catch(refusal: Refusal, host: ArgumentsHost) {
      const reply = host.switchToHttp().getResponse()
      if (typeof reply.code === 'function') reply.code(refusal.status).type('text/plain')
      else reply.status(refusal.status).type('text/plain')
      reply.send(refusal.body)
    }
  }

  @Controller()
  class EventsController {
    @SseRoute(
      'events',
      (request: { raw?: NodeRequest } & NodeRequest) => scenario.options?.(info(request)) ?? {},
    )
    @UseGuards(Refuse)
    @UseFilters(SendRefusal)
    events(@Req() request: { raw?: NodeRequest } & NodeRequest) {
      return async (session: SseStream) => {
        await scenario.onOpen?.(session, info(request))
      }
    }
  }

  @Module({
    // C17 expects nothing after a handler fails; the default `stream-error` event is covered by
    // stream.test.ts.
    imports: [SseModule.forRoot({ shutdownGrace: 200, errorEvent: false })],
    controllers: [
      EventsController,
      ...(scenario.durable ? [durableController(scenario.durable)] : []),
    ],
  })
  class AppModule {}
  return AppModule
}

/** Sets `X-Preset: kept` through the platform's own header API (Fastify: `reply.header()`). */
function presetHeader(app: INestApplication): NestInterceptor {
  return {
    intercept(context: ExecutionContext, next: CallHandler) {
      app.getHttpAdapter().setHeader(context.switchToHttp().getResponse(), 'X-Preset', 'kept')
      return next.handle()
    },
  }
}

/**
 * `@sse/nestjs` as a conformance target: a Nest application per scenario whose controller serves
 * `GET /events` with `@SseRoute()`, refusing from a guard (its filter sends the exact body), with
 * `X-Preset` set by a global interceptor before the stream opens.
 */
export function nestTarget(platform: Platform): ConformanceTarget {
  return {
    name: `nestjs on ${platform}, ${nest}`,
    async start(scenario) {
      const adapter =
        platform === 'express'
          ? new ExpressAdapter()
          : new FastifyAdapter(platform === 'fastify-h2c' ? { http2: true } : {})
      const app = await NestFactory.create(appModule(scenario), adapter, { logger: false })
      app.useGlobalInterceptors(presetHeader(app))
      await app.listen(0, '127.0.0.1')
      const server = app.getHttpServer() as Server
      const { port } = server.address() as AddressInfo
      return {
        url: `http://127.0.0.1:${port}`,
        http2: platform === 'fastify-h2c',
        server,
        close: async () => {
          // A case may leave a paused client behind, or close the server itself.
          ;(server as Partial<Server>).closeAllConnections?.()
          await app.close().catch(() => {})
        },
      }
    },
  }
}
