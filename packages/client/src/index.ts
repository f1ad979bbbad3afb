/**
 * `@sse/client`: a typed, fetch-based Server-Sent Events client. Runtime-neutral (no `node:`
 * imports): browsers, Node.js 20+, Deno, Bun and workers.
 */
export { connect, type EventStream } from './connect'
export type { ConnectOptions, FetchLike, HeadersOption, TextEventName } from './options'
export { RESUME_HEADER } from './response'
export {
  type BuiltInEvents,
  type ClientEvent,
  type CloseReason,
  type EventListener,
  type EventMap,
  type EventMeta,
  type EventName,
  HISTORY_LOST_EVENT,
  type HistoryLost,
  type WithBuiltIns,
} from './types'
