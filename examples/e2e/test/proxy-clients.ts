import { request } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { createGunzip } from 'node:zlib'
import { createParser } from 'eventsource-parser'
import { figures, type IdleFigure, type LatencyFigure } from './proxies.ts'

/** How long each stream is watched (ms): 2.5 times the 2 s idle timeouts of the tests. */
export const WINDOW = 5000

/** An event as {@link openRaw} received it, with its arrival time (`Date.now()`). */
export interface Arrived {
  event: string
  id: string
  data: string
  at: number
}

/** A stream read with node:http, gunzipped when the proxy compressed it. */
export interface RawStream {
  readonly headers: Record<string, string | string[] | undefined>
  /** When the request was sent, and when the response head arrived. */
  readonly sentAt: number
  readonly openedAt: number
  readonly events: Arrived[]
  /** Arrival times of comment lines (the first frame's and the heartbeats). */
  readonly comments: number[]
  /**
   * When the response was over, and how: `end` after the last chunk (the server ended it), or
   * `abort` when the connection closed without it (what a proxy's timeout does).
   */
  closed?: { at: number; how: 'end' | 'abort' }
  close(): void
}

/**
 * Opens `GET /events` through a proxy; with `gzip`, sends `Accept-Encoding: gzip`. A proxy that
 * buffers may hold back the response head too: after `headTimeout` ms without it, rejects.
 */
export function openRaw(
  url: string,
  options: { gzip?: boolean; headTimeout?: number } = {},
): Promise<RawStream> {
  const sentAt = Date.now()
  return new Promise((resolve, reject) => {
    const req = request(`${url}/events`, {
      headers: { accept: 'text/event-stream', ...(options.gzip && { 'accept-encoding': 'gzip' }) },
    })
    const timer = setTimeout(() => {
      req.destroy()
      reject(new Error(`no response head within ${options.headTimeout ?? 5000} ms`))
    }, options.headTimeout ?? 5000)
    req.once('error', reject)
    req.once('response', (res) => {
      clearTimeout(timer)
      const stream: RawStream = {
        headers: res.headers,
        sentAt,
        openedAt: Date.now(),
        events: [],
        comments: [],
        close: () => req.destroy(),
      }
      const parser = createParser({
        onEvent: ({ event, id, data }) =>
          stream.events.push({ event: event ?? 'message', id: id ?? '', data, at: Date.now() }),
        onComment: () => stream.comments.push(Date.now()),
      })
      // Gunzip hands on each flushed block as it arrives, so gzip delays only what nginx holds.
      const body = res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip()) : res
      body.on('data', (chunk: Buffer) => parser.feed(chunk.toString()))
      body.on('error', () => {})
      res.on('error', () => {})
      res.once('end', () => {
        stream.closed ??= { at: Date.now(), how: 'end' }
      })
      res.once('close', () => {
        stream.closed ??= { at: Date.now(), how: 'abort' }
      })
      resolve(stream)
    })
    req.end()
  })
}

/**
 * How late each `tick` arrived: its arrival minus the `time` the example stamped on it just
 * before publishing (one machine, one clock).
 */
export function tickLatencies(stream: RawStream): number[] {
  return stream.events
    .filter((event) => event.event === 'tick')
    .map((event) => event.at - Date.parse(JSON.parse(event.data).time))
}

/** The longest silence between two heartbeats, after the first one (ms). */
export function maxHeartbeatGap(stream: RawStream): number {
  const beats = stream.comments.filter((at) => at - stream.openedAt > 50)
  return Math.max(0, ...beats.slice(1).map((at, i) => at - beats[i]!))
}

/** Posts a notification to the example (directly, not through a proxy); resolves once stored. */
export async function notify(url: string, text: string): Promise<void> {
  const response = await fetch(`${url}/notify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  })
  if (response.status !== 202) throw new Error(`POST /notify answered ${response.status}`)
}

/** The `p`th percentile (0-100) of `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
}

/**
 * Reads `/events` through `url` for the window and records how late the ticks arrived. A
 * proxy that holds back even the response head for the whole window counts as no events.
 */
export async function latency(name: string, url: string, gzip = false): Promise<LatencyFigure> {
  const sentAt = Date.now()
  const stream = await openRaw(url, { gzip, headTimeout: WINDOW }).catch(() => undefined)
  await sleep(WINDOW - (Date.now() - sentAt))
  stream?.close()
  const late = stream ? tickLatencies(stream) : []
  figures.latency[name] = {
    events: late.length,
    p50: percentile(late, 50),
    p99: percentile(late, 99),
    head: stream ? stream.openedAt - stream.sentAt : null,
    encoding: stream ? String(stream.headers['content-encoding'] ?? 'none') : 'no head',
    ...(!stream && { note: `no response head within ${WINDOW} ms` }),
  }
  return figures.latency[name]
}

/** Opens `/events` through `url`, waits the window, and records whether the proxy cut it. */
export async function idle(name: string, url: string): Promise<IdleFigure> {
  const stream = await openRaw(url)
  await sleep(WINDOW - (stream.openedAt - stream.sentAt))
  // Looked at before closing it ourselves, which counts as a close too.
  const cut = stream.closed ?? null
  stream.close()
  const beats = stream.comments.filter((at) => at - stream.openedAt > 50).length
  figures.idle[name] = {
    window: WINDOW,
    cutAfter: cut ? cut.at - stream.sentAt : null,
    how: cut?.how ?? null,
    heartbeats: beats,
    maxHeartbeatGap: beats > 1 ? maxHeartbeatGap(stream) : null,
  }
  return figures.idle[name]
}
