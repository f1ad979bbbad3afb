import { type ChildProcess, fork } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { createHub, type Hub } from '@sse/core'
import { openNodeStream } from '@sse/core/node'
import { SlowStore, waitFor } from '@sse/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { figure, timeFile } from './support/figures'

timeFile(import.meta.url)

// Two client processes: one process may hold at most 20,000 open files, and this one holds the
// server's side of every connection.
const PROCESSES = 2
const RETRY = 3000
const fixture = new URL('./fixtures/storm-clients.mjs', import.meta.url)
const clientFixture = new URL('./fixtures/storm-sse-clients.mjs', import.meta.url)

const children = new Set<ChildProcess>()
const servers = new Set<Server>()
afterEach(() => {
  for (const child of children) child.kill('SIGKILL')
  children.clear()
  for (const server of servers) server.closeAllConnections()
  for (const server of servers) server.close()
  servers.clear()
})

interface Storm {
  /** When each client sent its reconnect, in ms after the drop. */
  arrivals: number[]
  hub: Hub
}

/** A hub and its node:http server on `port` (0: any), as one process of the app runs them. */
async function app(
  options: { port?: number; retryJitter?: number; store?: SlowStore } = {},
): Promise<{ hub: Hub; server: Server; url: string }> {
  const { port = 0, retryJitter, store } = options
  const hub = createHub({ store, heartbeat: false, retry: RETRY, retryJitter })
  const server = createServer((req, res) => {
    void openNodeStream(req, res, { hub })
  })
  servers.add(server)
  await new Promise<void>((resolve) =>
    server.listen({ port, host: '127.0.0.1', backlog: 2048 }, resolve),
  )
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`
  return { hub, server, url }
}

/**
 * `clients` clients of `script`, spread over the client processes. Each process reports once
 * every stream of its own is open (`opened`) and once every one has reconnected (`reopened`),
 * with a time per client (`times`).
 */
function forkClients(script: URL, url: string, clients: number) {
  const state = { opened: 0, reopened: 0, times: [] as number[] }
  for (let i = 0; i < PROCESSES; i++) {
    const child = fork(script, [url, String(clients / PROCESSES)], { stdio: 'inherit' })
    children.add(child)
    child.on('message', (message: { type: string; times?: number[] }) => {
      if (message.type === 'opened') state.opened++
      else if (message.type === 'reopened') {
        state.reopened++
        state.times.push(...(message.times ?? []))
      }
    })
  }
  return state
}

/**
 * Opens `clients` streams on a hub, drops them all at once (a gap in the store's live feed, so
 * every stream ends with `resync`), and records when each client sent its reconnect.
 */
async function storm(clients: number, retryJitter?: number): Promise<Storm> {
  const store = new SlowStore({ delay: 0 })
  const { hub, url } = await app({ retryJitter, store })
  const forked = forkClients(fixture, url, clients)
  await waitFor('every stream to open', () => forked.opened === PROCESSES && hub.size === clients, {
    timeout: 60_000,
  })
  // Date.now(): the clients' clock is another process's.
  const droppedAt = Date.now()
  store.gap()
  await waitFor('every client to come back', () => forked.reopened === PROCESSES, {
    timeout: 30_000,
  })
  return { arrivals: forked.times.map((at) => at - droppedAt), hub }
}

/**
 * `clients` @sse/client streams open on one app, which is then restarted: its connections are
 * cut (as a crash or a deploy does) and a new app listens on the same port. Returns how long
 * each client waited, from seeing its connection end to sending its reconnect, and the time
 * from the cut to the last reconnect.
 */
async function restartStorm(
  clients: number,
  retryJitter?: number,
): Promise<{ waited: number[]; lastMs: number; after: Hub }> {
  const before = await app({ retryJitter })
  const sockets = new Set<Socket>()
  before.server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  const forked = forkClients(clientFixture, before.url, clients)
  await waitFor('every stream to open', () => before.hub.size === clients, { timeout: 60_000 })
  // One event to every stream: the clients have read the hub's `retry:` when it arrives.
  await before.hub.publish('message', 'hello')
  await waitFor('every client to read it', () => forked.opened === PROCESSES, {
    timeout: 30_000,
  })
  const droppedAt = Date.now()
  before.server.close()
  for (const socket of sockets) socket.destroy()
  const after = await app({ port: Number(new URL(before.url).port) })
  await waitFor('every client to come back', () => forked.reopened === PROCESSES, {
    timeout: 30_000,
  })
  const lastMs = Date.now() - droppedAt
  await waitFor('every stream on the new app', () => after.hub.size === clients, {
    timeout: 30_000,
  })
  return { waited: forked.times, lastMs, after: after.hub }
}

/**
 * The busiest second of a reconnect wave against its mean rate, over the time from the drop
 * until the last client was back: 1 when the clients come back evenly, and high when they all
 * come back in the same second.
 */
function peakToMean(arrivals: readonly number[]): { busiest: number; mean: number } {
  const sorted = [...arrivals].sort((a, b) => a - b)
  let busiest = 0
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[j]! < sorted[i]! - 1000) j++
    busiest = Math.max(busiest, i - j + 1)
  }
  const span = Math.max(sorted.at(-1)!, 1000) / 1000
  return { busiest, mean: sorted.length / span }
}

describe('reconnect storm (C26)', () => {
  it('10,000 clients dropped at once come back spread out: the busiest second holds at most 2× the mean rate', async () => {
    const clients = 10_000
    const { arrivals, hub } = await storm(clients)
    const { busiest, mean } = peakToMean(arrivals)
    const sorted = [...arrivals].sort((a, b) => a - b)
    figure('reconnect-storm', `${clients} clients, retry ${RETRY} ms, default retryJitter`, {
      clients,
      arrivals: arrivals.length,
      firstMs: sorted[0]!,
      lastMs: sorted.at(-1)!,
      busiestSecond: busiest,
      meanPerSecond: mean,
      peakToMean: busiest / mean,
    })
    expect(arrivals).toHaveLength(clients)
    expect(busiest / mean).toBeLessThanOrEqual(2)
    expect(hub.size).toBe(clients)
  })

  it('@sse/client: 10,000 clients cut by a server restart come back spread out: the busiest second holds at most 2× the mean rate', async () => {
    const clients = 10_000
    const { waited, lastMs, after } = await restartStorm(clients)
    // As if every client had seen the cut at the same moment: a browser sees it at once.
    const { busiest, mean } = peakToMean(waited)
    const sorted = [...waited].sort((a, b) => a - b)
    figure('reconnect-storm', `${clients} @sse/client clients, server restart, retry ${RETRY} ms`, {
      clients,
      reconnects: waited.length,
      shortestWaitMs: sorted[0]!,
      longestWaitMs: sorted.at(-1)!,
      busiestSecond: busiest,
      meanPerSecond: mean,
      peakToMean: busiest / mean,
      cutToLastReconnectMs: lastMs,
    })
    expect(waited).toHaveLength(clients)
    expect(busiest / mean).toBeLessThanOrEqual(2)
    expect(after.size).toBe(clients)
  })

  it('@sse/client, the control: from a hub without retry jitter the same restart comes back all at once', async () => {
    const { waited } = await restartStorm(2000, 0)
    const { busiest, mean } = peakToMean(waited)
    figure('reconnect-storm', `2000 @sse/client clients, server restart, retryJitter 0`, {
      reconnects: waited.length,
      busiestSecond: busiest,
      peakToMean: busiest / mean,
    })
    expect(busiest / mean).toBeGreaterThan(2)
  })

  it('without jitter the same wave comes back all at once (the control: the check can fail)', async () => {
    const clients = 2000
    const { arrivals } = await storm(clients, 0)
    const { busiest, mean } = peakToMean(arrivals)
    figure('reconnect-storm', `${clients} clients, retry ${RETRY} ms, retryJitter 0`, {
      clients,
      arrivals: arrivals.length,
      busiestSecond: busiest,
      meanPerSecond: mean,
      peakToMean: busiest / mean,
    })
    expect(busiest / mean).toBeGreaterThan(2)
  })
})
