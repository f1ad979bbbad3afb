/**
 * `@sse/nestjs`: Server-Sent Events for NestJS on `@sse/core`, under Express and Fastify.
 * @module
 */
export { HubObservable, SseHub, type SseModuleOptions } from './hub'
export {
  SSE_MODULE_OPTIONS,
  SseModule,
  type SseModuleAsyncOptions,
  type SseModuleRootOptions,
} from './module'
export {
  LastEventId,
  SSE_ERROR_EVENT,
  SseInterceptor,
  SseRoute,
  type SseRouteOptions,
  type SseSource,
} from './stream'
