/**
 * `@sse/core`: everything Server-Sent Events means, once. Runtime-neutral: no `node:` imports.
 * Connections live in `@sse/core/node` (node:http, node:http2) and `@sse/core/web` (Fetch).
 * @module
 */
export { type Bytes, toBytes } from './bytes'
export { type Cursor, MAX_CURSOR_LENGTH, readCursor } from './cursor'
export {
  checkEventName,
  checkId,
  checkRetry,
  type EncodeOptions,
  type EventFields,
  encodeComment,
  encodeEvent,
  serializeData,
} from './encoder'
export { HISTORY_LOST_EVENT, HTTP2_FORBIDDEN_HEADERS, REPLAY_HEADER, streamHeaders } from './head'
export {
  createHub,
  eventMatches,
  Hub,
  type HubOptions,
  type Membership,
  type PublishArgs,
  type Target,
} from './hub'
export { MemoryStore, type MemoryStoreOptions } from './memory-store'
export {
  type Connection,
  type HeaderPairs,
  type HeadersInput,
  type HeaderValue,
  headerPairs,
  type OpenOptions,
  openSession,
  resolveOptions,
} from './open'
export type { PipeOptions, PipeSource } from './pipe'
export {
  type CloseReason,
  type ResolvedSessionOptions,
  type SendArgs,
  type SessionOptions,
  type Sink,
  SseSession,
  sessionDefaults,
} from './session'
export { closeSessions, type ShutdownOptions } from './shutdown'
export type { EventInput, EventStore, ReplayResult, StoredEvent } from './store'
export type { EventMap, MessageFields, Serializer, SseMessage } from './types'
