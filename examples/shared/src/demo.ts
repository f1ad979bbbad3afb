/**
 * The part of the demo that does not depend on the framework, once for every example: its
 * events, settings, hub and ticker, the chat's durable streams (chat.ts), the checks of what
 * clients send, the page's folder and the shutdown signals. An example adds only what its framework does its
 * own way: routes, body parsing, error responses, static files and listening.
 * @module
 */
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { createHub, type EventStore, type Hub, type HubOptions, MemoryStore } from '@sse/core'
import { createChats, type DemoChats } from './chat.ts'

export * from './chat.ts'

/** The events of the `/events` stream. */
export type Events = {
  /** One every `TICK_MS`, `n` increasing; `instance` names who published it (multi-instance). */
  tick: { n: number; time: string; instance?: string }
  /** One for each accepted `POST /notify`. */
  notification: { text: string; time: string }
}

/** The settings from the environment, with their defaults (the table in examples/README.md). */
export const settings = {
  port: Number(process.env.PORT ?? 3000),
  host: process.env.HOST ?? '127.0.0.1',
  tickMs: Number(process.env.TICK_MS ?? 1000),
  heartbeatMs: Number(process.env.HEARTBEAT_MS ?? 15_000),
  /** `false` when unset (or 0): the server never ends a stream by itself. */
  streamLifetimeMs: Number(process.env.STREAM_LIFETIME_MS) || false,
} as const

/** How long open streams get to flush on shutdown before their connections are dropped. */
export const shutdownGrace = 1000

/** The demo page's folder (index.html, demo.js, demo.css), served as static files at `/`. */
export const pageDir = fileURLToPath(new URL('../public', import.meta.url))

/**
 * The options of the demo's hub. Ticks and notifications share one store, so every event gets
 * an id a client can resume from.
 *
 * @param store - where events are kept; a `MemoryStore` of the last 1000 by default
 */
export function hubOptions(store: EventStore = new MemoryStore({ maxEvents: 1000 })): HubOptions {
  return { store, retry: 1000, heartbeat: settings.heartbeatMs }
}

/** Publishes one tick. */
export type Tick = (hub: Hub<Events>) => Promise<unknown>

/** The default {@link Tick}: `n` counts this process's ticks. */
function countTicks(): Tick {
  let n = 0
  return (hub) => hub.publish('tick', { n: ++n, time: new Date().toISOString() })
}

/**
 * Runs `tick` every `TICK_MS`. One tick at a time: while one is still running the next is
 * skipped, so ticks are published in the order of their `n`. A tick that fails is logged.
 *
 * @returns a function that stops the ticker
 */
export function startTicker(hub: Hub<Events>, tick: Tick = countTicks()): () => void {
  let busy = false
  const timer = setInterval(() => {
    if (busy) return
    busy = true
    tick(hub)
      .catch((error) => console.error('tick failed:', error))
      .finally(() => {
        busy = false
      })
  }, settings.tickMs)
  return () => clearInterval(timer)
}

/** Options of {@link createDemoHub}. */
export interface DemoHubOptions {
  /** @default new MemoryStore({ maxEvents: 1000 }) */
  store?: EventStore
  /** @default a tick counting this process's ticks */
  tick?: Tick
}

/** The demo's hub, with its ticker running, and the chat's durable streams on its store. */
export interface DemoHub {
  readonly hub: Hub<Events>
  readonly chats: DemoChats
  stopTicker(): void
  /**
   * Stops the ticker and ends the open streams (pages reconnect and resume once a server is
   * back), giving them {@link shutdownGrace} to flush.
   */
  close(): Promise<void>
}

/**
 * Creates the hub of `/events` (its streams end after `STREAM_LIFETIME_MS`, when set) and starts
 * publishing ticks on it.
 */
export function createDemoHub(options: DemoHubOptions = {}): DemoHub {
  const hub = createHub<Events>({
    ...hubOptions(options.store),
    maxLifetime: settings.streamLifetimeMs,
  })
  const chats = createChats(hub.store, settings.heartbeatMs)
  const stopTicker = startTicker(hub, options.tick)
  return {
    hub,
    chats,
    stopTicker,
    async close() {
      stopTicker()
      await Promise.all([
        hub.shutdown({ grace: shutdownGrace }),
        chats.hub.shutdown({ grace: shutdownGrace }),
      ])
    },
  }
}

/** What `POST /notify` answers (400) when {@link textOf} finds no text. */
export const invalidText = 'expected JSON {"text": "<1 to 1000 characters>"}'

/** The notification text of a request body, when it is a string of 1 to 1000 characters. */
export function textOf(body: unknown): string | undefined {
  const text = (body as { text?: unknown } | null | undefined)?.text
  return typeof text === 'string' && text.length >= 1 && text.length <= 1000 ? text : undefined
}

/**
 * Prints `listening on http://HOST:PORT`, the line the e2e tests and the cluster script wait
 * for (`PORT=0` picks a free port: this line tells which).
 *
 * @param server - the listening server, or its address
 * @param note - added in parentheses
 */
export function logListening(
  server: AddressInfo | { address(): AddressInfo | string | null },
  note?: string,
): void {
  const { port } = ('port' in server ? server : server.address()) as AddressInfo
  console.log(`listening on http://${settings.host}:${port}${note ? ` (${note})` : ''}`)
}

/**
 * Runs `close` on Ctrl+C (SIGINT) or SIGTERM, once: a terminal and a process manager may both
 * send one.
 */
export function onShutdown(close: () => Promise<void>): void {
  let closing = false
  const run = () => {
    if (closing) return
    closing = true
    void close()
  }
  process.once('SIGINT', run)
  process.once('SIGTERM', run)
}
