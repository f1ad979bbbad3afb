import {
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common'
import * as demo from '@sse/example-shared'
import { SseHub, SseModule } from '@sse/nestjs'
import { chatsProvider } from './chats'
import { DemoController } from './demo.controller'

/** Publishes a tick every TICK_MS while the application runs. */
@Injectable()
export class Ticker implements OnApplicationBootstrap, OnModuleDestroy {
  #stop = () => {}

  constructor(@Inject(SseHub) private readonly hub: SseHub<demo.Events>) {}

  onApplicationBootstrap() {
    this.#stop = demo.startTicker(this.hub)
  }

  onModuleDestroy() {
    this.#stop()
  }
}

@Module({
  imports: [
    // The hub and the defaults of every stream; STREAM_LIFETIME_MS is on the /events route only.
    SseModule.forRoot({ ...demo.hubOptions(), shutdownGrace: demo.shutdownGrace }),
  ],
  controllers: [DemoController],
  providers: [Ticker, chatsProvider],
})
export class AppModule {}
