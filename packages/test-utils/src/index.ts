/**
 * `@sse/test-utils`: the shared conformance suite (conformance.md, C01-C31, C34) and the real-socket
 * clients it is built on, for every adapter's tests.
 * @module
 */

export { CHROMIUM, CHROMIUM_ARGS, describeBrowser } from './browser'
export { durableCases } from './conformance/durable'
export { asParsed } from './conformance/encoding'
export {
  CaseContext,
  type CaseTag,
  type ConformanceCase,
  type StoreFactory,
  type SuiteVariant,
  streamLog,
} from './conformance/harness'
export {
  conformanceCases,
  type RunConformanceOptions,
  runConformance,
  suiteVariants,
} from './conformance/run'
export { coreNodeHandler, coreNodeTarget, coreWebTarget } from './core-targets'
export {
  type ChatApp,
  type ChatAppOptions,
  type ChatEvents,
  chatApp,
  expectedTokens,
  type Produce,
  tokens,
} from './durable-app'
export {
  type ConnectEventSourceOptions,
  connectEventSource,
  type EventSourceClient,
  type EventSourceMessage,
  type EventSourceRequest,
} from './event-source'
export { type FetchedStream, fetchStream, lastEvent, tokenData } from './fetch-stream'
export { openHttp1Stream } from './http1-client'
export { http2Fetch, openHttp2Stream } from './http2-client'
export { type ListenOptions, listen } from './listen'
export { RecordingClient } from './recording-client'
export {
  asyncStore,
  forgetfulStore,
  type ResumeTotals,
  resumeSteps,
  runResumeSteps,
} from './resume-property'
export { noRuntime, type Runtime, runtimeBinary } from './runtimes'
export { SlowStore, type SlowStoreOptions } from './slow-store'
export { framingProblems, type ReceivedComment, type ReceivedEvent, SseReader } from './sse-reader'
export {
  type OpenStreamOptions,
  openStream,
  type ReceivedHeaders,
  type StreamClient,
} from './stream-client'
export type {
  ConformanceTarget,
  DurableScenario,
  RequestInfo,
  ServerUnderTest,
  StreamScenario,
} from './target'
export { tcpProxy } from './tcp-proxy'
export { type Deferred, deferred, sleep, type WaitOptions, waitFor, within } from './wait'
export { serveWebHandler, toWebRequest, type WebHandler, writeWebResponse } from './web-bridge'
