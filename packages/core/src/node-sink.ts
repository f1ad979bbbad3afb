import { Buffer } from 'node:buffer'
import { ServerResponse as NodeServerResponse, type ServerResponse } from 'node:http'
import type { Http2ServerResponse } from 'node:http2'
import type { Socket } from 'node:net'
import type { Sink } from './connection'

// node:http2's constants.NGHTTP2_CANCEL.
const NGHTTP2_CANCEL = 0x8
const CRLF = Buffer.from('\r\n', 'latin1')

// The chunked framing of each broadcast frame, made once and shared by every socket it goes to
// (the hub hands every subscriber the same bytes object).
const framed = new WeakMap<Uint8Array, Buffer>()

// A broadcast writes the same bytes to every subscriber in a row: remember the last one, so
// the loop does not even hash it.
let lastBytes: Uint8Array | undefined
let lastFramed: Buffer | undefined

function frameBytes(bytes: Uint8Array): Buffer {
  if (bytes === lastBytes) return lastFramed!
  let out = framed.get(bytes)
  if (!out) {
    out = Buffer.concat([
      Buffer.from(`${bytes.byteLength.toString(16)}\r\n`, 'latin1'),
      bytes,
      CRLF,
    ])
    framed.set(bytes, out)
  }
  lastBytes = bytes
  lastFramed = out
  return out
}

function frameText(text: string): string {
  return `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`
}

const byteLength = (chunk: string | Uint8Array) =>
  typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength

/** Copies queued frames into one buffer, inside one chunk of chunked framing if asked. */
function joinFrames(parts: (string | Uint8Array)[], bytes: number, chunked: boolean): Buffer {
  const head = chunked ? `${bytes.toString(16)}\r\n` : ''
  const out = Buffer.allocUnsafe(head.length + bytes + (chunked ? 2 : 0))
  let at = out.write(head, 0, 'latin1')
  for (const part of parts) {
    if (typeof part === 'string') at += out.write(part, at, 'utf8')
    else {
      out.set(part, at)
      at += part.byteLength
    }
  }
  if (chunked) out.write('\r\n', at, 'latin1')
  return out
}

// Sinks with frames queued in this turn of the event loop; one setImmediate flushes them all.
const dirty = new Set<() => void>()
let flushScheduled = false

function flushAll(): void {
  flushScheduled = false
  for (const flush of dirty) flush()
  dirty.clear()
}

function scheduleFlush(flush: () => void): void {
  dirty.add(flush)
  if (!flushScheduled) {
    flushScheduled = true
    setImmediate(flushAll)
  }
}

/** A sink for an HTTP/2 stream, through the compatibility response. */
export function http2Sink(res: Http2ServerResponse): Sink {
  const { stream } = res
  return {
    write: (chunk) => res.write(chunk),
    get bufferedBytes() {
      return stream.writableLength
    },
    end: () => res.end(),
    // A plain destroy() sends RST_STREAM(NO_ERROR), which clients read as a normal end; CANCEL
    // tells them the stream was dropped (a slow consumer, a shutdown past its grace).
    destroy: () => stream.close(NGHTTP2_CANCEL),
  }
}

/** An HTTP/1 sink, and how to hear its socket drain once writes bypass the response. */
export interface Http1Sink extends Sink {
  /** Calls `listener` when the socket the fast path writes to drains; returns the undo. */
  onSocketDrain(listener: () => void): () => void
  /**
   * Queues the frames written during one turn of the event loop and sends them in one socket
   * write at the end of it (architecture.md, technique 2): each write costs about 6 µs of
   * kernel time, so k events per write divide that by k, for a little latency (under a turn).
   */
  coalesce(): void
}

/**
 * A sink for an HTTP/1 response. The head and first frame go through `res.write()`; after that,
 * when nothing else sits between the response and its socket, frames are written to the socket
 * directly, already in chunked framing: one `socket.write` per event and no per-write work in
 * the response object (architecture.md, technique 3). Anything unusual keeps the plain path:
 * a `res.write` wrapped by middleware (compression, logging), bytes still queued in the
 * response, a socket shared with a pipelined response.
 */
export function http1Sink(res: ServerResponse): Http1Sink {
  const plain = res.write === NodeServerResponse.prototype.write
  let socket: Socket | undefined
  let chunked = true
  let drainListener: (() => void) | undefined
  let coalescing = false
  let queue: (string | Uint8Array)[] = []
  let queued = 0

  const flush = () => {
    if (queue.length === 0) return
    const parts = queue
    const bytes = queued
    queue = []
    queued = 0
    if (!socket || socket.destroyed) return
    const [only] = parts
    // A lone frame needs no copy: a broadcast's shared framing serves every socket as it is.
    const ok =
      parts.length > 1
        ? socket.write(joinFrames(parts, bytes, chunked))
        : typeof only === 'string'
          ? socket.write(chunked ? frameText(only) : only)
          : socket.write(chunked ? frameBytes(only!) : only!)
    // A write() that reported backpressure may have counted only our own queue: the socket took
    // it all, so it will emit no 'drain', and whoever waits for one must hear it now.
    if (ok) drainListener?.()
  }

  const direct = (): Socket | undefined => {
    const s = res.socket
    // writableLength counts bytes the response still holds besides the socket's own.
    if (!plain || !s || !res.headersSent || res.writableLength !== s.writableLength)
      return undefined
    chunked = (res as { chunkedEncoding?: boolean }).chunkedEncoding !== false
    if (drainListener) s.on('drain', drainListener)
    return s
  }

  return {
    write(chunk) {
      if (socket && coalescing) {
        if (queue.length === 0) scheduleFlush(flush)
        queue.push(chunk)
        queued += byteLength(chunk)
        return socket.writableLength + queued < socket.writableHighWaterMark
      }
      if (socket) {
        if (typeof chunk === 'string') return socket.write(chunked ? frameText(chunk) : chunk)
        return socket.write(chunked ? frameBytes(chunk) : chunk)
      }
      const ok = res.write(chunk)
      socket = direct()
      return ok
    },
    get bufferedBytes() {
      return res.writableLength + queued
    },
    end: () => {
      flush()
      res.end()
    },
    destroy: () => {
      queue = []
      queued = 0
      res.destroy()
    },
    coalesce() {
      coalescing = true
    },
    onSocketDrain(listener) {
      drainListener = listener
      socket?.on('drain', listener)
      return () => {
        drainListener = undefined
        res.socket?.off('drain', listener)
        socket?.off('drain', listener)
      }
    },
  }
}
