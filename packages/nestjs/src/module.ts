import {
  type BeforeApplicationShutdown,
  ConfigurableModuleBuilder,
  Inject,
  Module,
  Optional,
} from '@nestjs/common'
import { HttpAdapterHost } from '@nestjs/core'
import { closeStreams } from '@sse/core'
import { SseHub, type SseModuleOptions } from './hub'

const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<SseModuleOptions>()
    .setClassMethodName('forRoot')
    .setExtras({ isGlobal: true }, (definition, extras) => ({
      ...definition,
      global: extras.isGlobal,
    }))
    .build()

/** The injection token of the {@link SseModuleOptions} given to `SseModule.forRoot()`. */
export const SSE_MODULE_OPTIONS: symbol | string = MODULE_OPTIONS_TOKEN

/** What `SseModule.forRoot()` takes: {@link SseModuleOptions} and `isGlobal` (default true). */
export type SseModuleRootOptions = typeof OPTIONS_TYPE
/** What `SseModule.forRootAsync()` takes: `useFactory`/`useClass`/`useExisting`, `imports`, `inject`. */
export type SseModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE

/**
 * Server-Sent Events for the application: provides the injectable {@link SseHub} (built from
 * the options, with a `MemoryStore` unless another store is given) and the defaults that every
 * `@SseRoute()` route uses. Global unless `isGlobal: false`.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [SseModule.forRoot({ heartbeat: 15_000, retry: 3000, store: new MemoryStore({ maxEvents: 1000 }) })],
 *   controllers: [EventsController],
 * })
 * export class AppModule {}
 *
 * // or, from configuration:
 * SseModule.forRootAsync({
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ heartbeat: config.get('SSE_HEARTBEAT') }),
 * })
 * ```
 */
@Module({
  providers: [
    {
      provide: SseHub,
      useFactory: (options: SseModuleOptions) => new SseHub(options),
      inject: [MODULE_OPTIONS_TOKEN],
    },
  ],
  exports: [SseHub, MODULE_OPTIONS_TOKEN],
})
export class SseModule extends ConfigurableModuleClass implements BeforeApplicationShutdown {
  constructor(
    // Explicit tokens, so injection never depends on the parameter types a compiler emits.
    @Inject(SseHub) private readonly hub: SseHub,
    @Optional() @Inject(HttpAdapterHost) private readonly adapterHost?: HttpAdapterHost,
  ) {
    super()
  }

  /**
   * Ends every open stream of the application's HTTP server (hub or not, any method) and the
   * hub's streams before Nest closes the server, so `app.close()` never hangs (C18).
   */
  async beforeApplicationShutdown(): Promise<void> {
    const grace = this.hub.shutdownGrace
    const server = this.adapterHost?.httpAdapter?.getHttpServer() as object | undefined
    await Promise.all([
      this.hub.shutdown({ grace }),
      server ? closeStreams({ server, grace }) : undefined,
    ])
  }
}
