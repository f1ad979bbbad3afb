/**
 * `@sse/core`: everything Server-Sent Events means, once. This entry is what applications use:
 * the hub, stores, the stream type, encoders, shutdown and types. Streams are opened by a
 * connection, `@sse/core/node` (node:http, node:http2) or `@sse/core/web` (Fetch), or by a
 * framework adapter. Runtime-neutral: no `node:` imports.
 * @module
 */
export {
  type DeliverMessage,
  type FeedGapMessage,
  type LimitMessage,
  type PublishMessage,
  type ReplayMessage,
  type SlowConsumerMessage,
  SSE_CHANNELS,
  type SseChannelMessages,
  type StoreErrorMessage,
  type StreamCloseMessage,
  type StreamOpenMessage,
} from './diagnostics-messages'
export { createDurableStreams, DurableStreams } from './durable'
export {
  type DurableErrorReason,
  type DurableSendArgs,
  DurableStopped,
  type DurableWriter,
} from './durable-producer'
export type { DurableBackend, DurableInit, DurableState } from './durable-store'
export type {
  DurableRef,
  DurableRun,
  DurableStartOptions,
  DurableStreamsOptions,
} from './durable-types'
export { type EncodeOptions, type EventFields, encodeComment, encodeEvent } from './encoder'
export {
  CURSOR_EVENT,
  DONE_EVENT,
  ERROR_EVENT,
  HISTORY_LOST_EVENT,
  REPLAY_HEADER,
  RESUME_HEADER,
} from './head'
export type { HeadersInput } from './headers'
export { createHub, Hub } from './hub'
export type { HubOptions, PublishArgs, PublishOptions, Target } from './hub-options'
export type { Membership } from './members'
export { MemoryStore, type MemoryStoreOptions } from './memory-store'
export type { OpenOptions } from './open'
export type { StreamOptions } from './options'
export type { PipeOptions, PipeSource } from './pipe'
export { type CloseStreamsOptions, closeStreams, type ShutdownOptions } from './shutdown'
export type { EventInput, EventStore, LogReplay, StoredEvent } from './store'
export { SseStream } from './stream'
export type { CloseReason, SendArgs } from './stream-types'
export type { EventArgs, EventMap, MessageFields, Serializer, SseMessage } from './types'
