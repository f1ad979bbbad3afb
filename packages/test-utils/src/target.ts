import type { Server } from 'node:http'
import type { Http2Server } from 'node:http2'
import type { DurableStartOptions, DurableStreams, OpenOptions, SseStream } from '@sse/core'

/** The request as the suite's callbacks see it. */
export interface RequestInfo {
  /** Path and query, for example `/events?lastEventId=3`. */
  url: string
  /** Request headers, lower-cased names. */
  headers: Record<string, string | string[] | undefined>
}

/** What a server under test does for each `GET /events` request of one test. */
export interface StreamScenario {
  /** Options to open the stream with (hub, topics, heartbeat, retry...). Called per request. */
  options?: (request: RequestInfo) => OpenOptions
  /**
   * Decides, before the stream opens, to answer with another status and a normal body the
   * framework's own way (C06). Return undefined to open the stream.
   */
  refuse?: (request: RequestInfo) => { status: number; body?: string } | undefined
  /**
   * Runs once the stream is open. A throw or rejection here is "the handler failed after the
   * stream opened": the target must end that stream without crashing or affecting others.
   */
  onOpen?: (stream: SseStream, request: RequestInfo) => void | Promise<void>
  /**
   * Durable streams (C29-C31) to serve besides `GET /events`, each route the framework's own
   * way. The caller is the `x-user` request header (the application's authentication):
   * - `POST /durable` starts one with `streams.start({ owner, idempotencyKey, produce })`
   *   (`idempotencyKey`: the `idempotency-key` header) and streams it (`durable: run`);
   * - `GET /durable/:id` opens `durable: streams.get(id, { owner })`;
   * - `DELETE /durable/:id` answers 204 when `streams.cancel(id, { owner })` is true, else 404.
   */
  durable?: DurableScenario
}

/** The durable streams a target serves at `/durable` (see {@link StreamScenario.durable}). */
export interface DurableScenario {
  /** The streams, whose location is `/durable/<id>`. */
  streams: DurableStreams
  /** What every `POST /durable` runs. */
  produce: DurableStartOptions['produce']
}

/** A running server, started by {@link ConformanceTarget.start}. */
export interface ServerUnderTest {
  /** Base URL without a trailing slash; the stream is served at `${url}/events`. */
  url: string
  /** True when the server speaks HTTP/2 (h2c or TLS); the suite then uses a node:http2 client. */
  http2: boolean
  /** The Node server, when there is one, so the suite can set its timeouts (C18). */
  server?: Server | Http2Server
  /** Stops the server. Resolves when it has closed. */
  close(): Promise<void>
}

/**
 * One way of serving streams (core over node:http, an adapter on a framework...) that the
 * conformance suite runs against.
 */
export interface ConformanceTarget {
  /** Shown in test names, for example `express 5`. */
  name: string
  /**
   * Starts a server on 127.0.0.1, port 0, that serves `GET /events` with `scenario`. Before the
   * stream opens it must set the response header `X-Preset: kept` the framework's own way (a
   * middleware, hook, `reply.header()`, `ctx.set()`...), to check that such headers survive (C05).
   */
  start(scenario: StreamScenario): Promise<ServerUnderTest>
}
