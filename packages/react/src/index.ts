/**
 * `@sse/react`: a React hook for Server-Sent Events on `@sse/client`.
 * @module
 */
export {
  type EventStreamState,
  type UseEventStreamOptions,
  useEventStream,
} from './use-event-stream'
