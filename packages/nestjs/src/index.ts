/**
 * `@sse/nestjs`: Server-Sent Events for NestJS on `@sse/core`, under Express and Fastify.
 * @module
 */
export type {
  SseMessageEvent,
  SseRouteDecorator,
  SseRouteHandler,
  SseSource,
} from './events'
export { HubObservable, SseHub, type SseModuleOptions } from './hub'
export { SSE_ERROR_EVENT, SseInterceptor } from './interceptor'
export {
  SSE_MODULE_OPTIONS,
  SseModule,
  type SseModuleAsyncOptions,
  type SseModuleRootOptions,
} from './module'
export { LastEventId, SseRoute, type SseRouteMethod, type SseRouteOptions } from './route'
