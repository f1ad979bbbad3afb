// @sse/nestjs on the Express platform: the route returns hub.subscribe(), so events are stored,
// encoded once and written to every stream by core.
import 'reflect-metadata'
import { Controller, Inject, Module } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { MemoryStore } from '@sse/core'
import { SseHub, SseModule, SseRoute } from '@sse/nestjs'
import type { StartContestant } from '../protocol.ts'

@Controller()
class EventsController {
  // An explicit token: tsx (esbuild) emits no decorator metadata for Nest to read the type from.
  constructor(@Inject(SseHub) private readonly hub: SseHub) {}

  @SseRoute('events')
  events() {
    return this.hub.subscribe()
  }
}

@Module({
  imports: [SseModule.forRoot({ heartbeat: false, store: new MemoryStore({ maxEvents: 1000 }) })],
  controllers: [EventsController],
})
class AppModule {}

const start: StartContestant = async () => {
  const app = await NestFactory.create(AppModule, { logger: false })
  await app.listen(0, '127.0.0.1')
  const hub = app.get(SseHub)
  const address = app.getHttpServer().address() as import('node:net').AddressInfo
  return {
    port: address.port,
    publish: (data) => void hub.publish({ data }),
    close: () => app.close(),
  }
}
export default start
