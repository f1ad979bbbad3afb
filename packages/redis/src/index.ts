/**
 * `@sse/redis`: the `@sse/core` event store on Redis Streams, so several processes or machines
 * share one id space, one history for resume, and one live feed.
 * @module
 */
export { RedisDurables } from './durable'
export { type Fence, RedisFencedError } from './fence'
export { type RedisClient, RedisStoreError, type RedisStoreOptions } from './options'
export { RedisStore } from './store'
