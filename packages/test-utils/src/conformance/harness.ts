import {
  createHub,
  type EventStore,
  type Hub,
  type HubOptions,
  MemoryStore,
  type MemoryStoreOptions,
  type SseStream,
} from '@sse/core'
import {
  type ConnectEventSourceOptions,
  connectEventSource,
  type EventSourceClient,
} from '../event-source'
import { type OpenStreamOptions, openStream, type StreamClient } from '../stream-client'
import type { ConformanceTarget, ServerUnderTest, StreamScenario } from '../target'
import { waitFor, within } from '../wait'

/** What a case exercises, so that a variant of the suite runs the cases it concerns. */
export type CaseTag = 'store' | 'pipe'

/** One conformance case: its name starts with the rule number (`C07 splits data...`). */
export interface ConformanceCase {
  name: string
  /** `store`: it opens streams on a hub made with `t.hub()`; `pipe`: it pipes a source. */
  tags?: readonly CaseTag[]
  run(t: CaseContext): Promise<void>
}

/** Makes a store with a case's retention options. */
export type StoreFactory = (options: MemoryStoreOptions) => EventStore

const memoryStore: StoreFactory = (options) => new MemoryStore(options)

/**
 * A second run of some cases under harder conditions: every hub on a slow, faulty store (as a
 * remote store can be), or every stream coalescing its writes.
 */
export interface SuiteVariant {
  /** Shown after the target's name, for example `with a slow store`. */
  name: string
  /** The cases it runs: those with one of these tags. */
  tags: readonly CaseTag[]
  /**
   * Makes the store of every hub that a case creates with `t.hub()`, from the store the suite
   * would use otherwise (`base`).
   */
  store?: (options: MemoryStoreOptions, base: StoreFactory) => EventStore
  /** Opens every stream with this `coalesce` (the default is `true`). */
  coalesce?: boolean
}

/**
 * What a case works with: it starts servers and opens clients through here, and everything
 * is closed after the case, whether it passed or not.
 */
export class CaseContext {
  readonly target: ConformanceTarget
  readonly variant: SuiteVariant | undefined
  readonly #servers: ServerUnderTest[] = []
  readonly #clients: { close(): void }[] = []
  readonly #cleanups: (() => void | Promise<void>)[] = []

  readonly #base: StoreFactory

  /**
   * @param target - the server under test
   * @param variant - the variant of the suite this case runs in, if any
   * @param base - the store the suite uses unless the variant brings its own
   */
  constructor(target: ConformanceTarget, variant?: SuiteVariant, base: StoreFactory = memoryStore) {
    this.target = target
    this.variant = variant
    this.#base = base
  }

  /** A store with these retention options: the suite's (a `MemoryStore`), or the variant's. */
  store(options: MemoryStoreOptions = {}): EventStore {
    const variant = this.variant?.store
    return variant ? variant(options, this.#base) : this.#base(options)
  }

  /** A hub on {@link CaseContext.store} (unless `options.store` is given), as the variant wants. */
  hub(options: HubOptions = {}): Hub {
    const coalesce = this.variant?.coalesce
    return createHub({
      ...(coalesce === undefined ? {} : { coalesce }),
      ...options,
      store: options.store ?? this.store(),
    })
  }

  /** Starts the target's server with `scenario`. */
  async start(scenario: StreamScenario): Promise<ServerUnderTest> {
    const coalesce = this.variant?.coalesce
    const effective: StreamScenario =
      coalesce === undefined
        ? scenario
        : { ...scenario, options: (info) => ({ ...scenario.options?.(info), coalesce }) }
    const server = await this.target.start(effective)
    this.#servers.push(server)
    return server
  }

  /** Opens a raw client (HTTP/1.1 or HTTP/2, as the server speaks). */
  async stream(server: ServerUnderTest, options?: OpenStreamOptions): Promise<StreamClient> {
    const client = await openStream(server, options)
    this.#clients.push(client)
    return client
  }

  /** Connects the `eventsource` client. */
  eventSource(server: ServerUnderTest, options?: ConnectEventSourceOptions): EventSourceClient {
    const client = connectEventSource(server, options)
    this.#clients.push(client)
    return client
  }

  /** Runs `fn` when the case ends, before servers close. */
  defer(fn: () => void | Promise<void>): void {
    this.#cleanups.push(fn)
  }

  /** Closes clients, runs deferred cleanups, then closes servers (each within 5 s). */
  async cleanup(): Promise<void> {
    for (const client of this.#clients) client.close()
    for (const fn of this.#cleanups.reverse()) await fn()
    for (const server of this.#servers) {
      await within(`${this.target.name}: closing the server`, 5000, server.close())
    }
  }
}

/** Records the streams a scenario opened, in order. Use its `onOpen` in the scenario. */
export function streamLog() {
  const streams: SseStream[] = []
  return {
    streams,
    onOpen: (stream: SseStream) => {
      streams.push(stream)
    },
    /** Waits for the `index`-th stream (0-based) to open. */
    nth: (index: number): Promise<SseStream> =>
      waitFor(`stream ${index + 1} to open`, () => streams[index]),
  }
}

/** The Node server of a target, or a failure that says how to skip the case. */
export function nodeServerOf(server: ServerUnderTest, rule: string) {
  if (!server.server) {
    throw new Error(
      `${rule} needs ServerUnderTest.server (a Node server); this target gives none. ` +
        'If it cannot, list this case in runConformance(target, { skip }) with the reason.',
    )
  }
  return server.server
}

/** A header value as one string (HTTP/1 may repeat it; HTTP/2 never does for these). */
export function header(client: StreamClient, name: string): string | undefined {
  const value = client.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

/**
 * Publishes an event to everyone, then returns the id a stream of the suite's servers (no topic,
 * no key) holds after it: its cursor, which `Last-Event-ID` resumes from.
 */
export async function publishAt(hub: Hub, event: string, data: string): Promise<string> {
  await hub.publish(event, data)
  return hub.cursor()
}
