import {
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common'
import { MemoryStore } from '@sse/core'
import { SseHub, SseModule } from '@sse/nestjs'
import { DemoController, type Events } from './demo.controller'

/** Publishes a tick every TICK_MS while the application runs. */
@Injectable()
export class Ticker implements OnApplicationBootstrap, OnModuleDestroy {
  #timer: ReturnType<typeof setInterval> | undefined
  #n = 0

  constructor(@Inject(SseHub) private readonly hub: SseHub<Events>) {}

  onApplicationBootstrap() {
    this.#timer = setInterval(
      () => this.hub.publish('tick', { n: ++this.#n, time: new Date().toISOString() }),
      Number(process.env.TICK_MS ?? 1000),
    )
  }

  onModuleDestroy() {
    clearInterval(this.#timer)
  }
}

@Module({
  imports: [
    // Ticks and notifications share one store, so every event gets an id a client can resume from.
    SseModule.forRoot({
      store: new MemoryStore({ maxEvents: 1000 }),
      retry: 1000,
      heartbeat: Number(process.env.HEARTBEAT_MS ?? 15_000),
      shutdownGrace: 1000,
    }),
  ],
  controllers: [DemoController],
  providers: [Ticker],
})
export class AppModule {}
