import { Buffer } from 'node:buffer'
import { ServerResponse as NodeServerResponse, type ServerResponse } from 'node:http'
import type { Http2ServerResponse } from 'node:http2'
import type { Socket } from 'node:net'
import type { ConnectionEvents, Sink } from './connection'

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
const dirty = new Set<Http1Sink>()
let flushScheduled = false

function flushAll(): void {
  flushScheduled = false
  for (const sink of dirty) sink.flush()
  dirty.clear()
}

function scheduleFlush(sink: Http1Sink): void {
  dirty.add(sink)
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

// The sink of a response, for the listeners every response shares (their `this` is the response).
const kSink = Symbol('sse.sink')
type SinkResponse = ServerResponse & { [kSink]?: Http1Sink }

function ignore(): void {}

function responseClosed(this: SinkResponse): void {
  this[kSink]?.closed()
}

function responseDrained(this: SinkResponse): void {
  this[kSink]?.drained()
}

/**
 * A sink for an HTTP/1 response. The head and first frame go through `res.write()`; after that,
 * when nothing else sits between the response and its socket, frames are written to the socket
 * directly, already in chunked framing: one `socket.write` per event and no per-write work in
 * the response object (architecture.md, technique 3). Anything unusual keeps the plain path:
 * a `res.write` wrapped by middleware (compression, logging), bytes still queued in the
 * response, a socket shared with a pipelined response.
 *
 * Built to cost little while a stream sits idle (thousands of them stay open): one object with
 * its methods on the prototype, listeners the responses share, and the drain listeners added
 * only once a write reports backpressure.
 */
export class Http1Sink implements Sink {
  readonly #res: SinkResponse
  readonly #plain: boolean
  #socket: Socket | undefined = undefined
  #chunked = true
  #events: ConnectionEvents | undefined = undefined
  /** Set once a write reported backpressure: hears the response's and the socket's drain. */
  #onSocketDrain: (() => void) | undefined = undefined
  #coalescing = false
  #queue: (string | Uint8Array)[] = []
  #queued = 0

  constructor(res: ServerResponse) {
    this.#res = res
    this.#plain = res.write === NodeServerResponse.prototype.write
  }

  /**
   * Tells `events` when the response closes and when its bytes drain; with `coalesce`, queues
   * the frames written during one turn of the event loop and sends them in one socket write at
   * the end of it (architecture.md, technique 2): each write costs about 6 µs of kernel time, so
   * k events per write divide that by k, for a little latency (under a turn).
   */
  attach(events: ConnectionEvents, coalesce: boolean): void {
    this.#events = events
    this.#coalescing = coalesce
    const res = this.#res
    res[kSink] = this
    // 'close' on the response fires once, both when the client leaves and after our end().
    res.on('close', responseClosed)
    // A write racing a disconnect can emit 'error' on some Node versions; the 'close' that
    // follows does the cleanup, so the error is not worth a crash or a log line.
    res.on('error', ignore)
  }

  write(chunk: string | Uint8Array): boolean {
    const socket = this.#socket
    if (socket && this.#coalescing) {
      if (this.#queue.length === 0) scheduleFlush(this)
      this.#queue.push(chunk)
      this.#queued += byteLength(chunk)
      if (socket.writableLength + this.#queued < socket.writableHighWaterMark) return true
      this.#hearDrain()
      return false
    }
    let ok: boolean
    if (socket) {
      const chunked = this.#chunked
      ok =
        typeof chunk === 'string'
          ? socket.write(chunked ? frameText(chunk) : chunk)
          : socket.write(chunked ? frameBytes(chunk) : chunk)
    } else {
      ok = this.#res.write(chunk)
      this.#socket = this.#direct()
    }
    if (!ok) this.#hearDrain()
    return ok
  }

  get bufferedBytes(): number {
    return this.#res.writableLength + this.#queued
  }

  end(): void {
    this.flush()
    this.#res.end()
  }

  destroy(): void {
    this.#queue = []
    this.#queued = 0
    this.#res.destroy()
  }

  /** Sends the frames queued in this turn of the event loop, in one socket write. */
  flush(): void {
    if (this.#queue.length === 0) return
    const parts = this.#queue
    const bytes = this.#queued
    this.#queue = []
    this.#queued = 0
    const socket = this.#socket
    if (!socket || socket.destroyed) return
    const chunked = this.#chunked
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
    if (ok) this.drained()
    else this.#hearDrain()
  }

  /** The response closed: the socket's drain is no longer ours to hear (it may serve others). */
  closed(): void {
    const res = this.#res
    res[kSink] = undefined
    const listener = this.#onSocketDrain
    if (listener) {
      res.socket?.off('drain', listener)
      this.#socket?.off('drain', listener)
    }
    this.#events?.closed()
  }

  drained(): void {
    this.#events?.drained()
  }

  /**
   * After the first write, the socket, when frames can bypass the response; flattens the head
   * the response keeps (built by concatenation, about 25 string pieces per open response).
   */
  #direct(): Socket | undefined {
    const res = this.#res
    const head = (res as { _header?: unknown })._header
    // A regular expression reads its subject flat: V8 flattens the string in place.
    if (typeof head === 'string') FLATTEN.test(head)
    const s = res.socket
    // writableLength counts bytes the response still holds besides the socket's own.
    if (!this.#plain || !s || !res.headersSent || res.writableLength !== s.writableLength)
      return undefined
    this.#chunked = (res as { chunkedEncoding?: boolean }).chunkedEncoding !== false
    if (this.#onSocketDrain) s.on('drain', this.#onSocketDrain)
    return s
  }

  /**
   * Listens for the drain a write that reported backpressure waits for: the response's (the
   * plain path, or the head's write) and, once frames bypass the response, the socket's.
   */
  #hearDrain(): void {
    if (this.#onSocketDrain || !this.#events) return
    const listener = () => this.drained()
    this.#onSocketDrain = listener
    this.#res.on('drain', responseDrained)
    this.#socket?.on('drain', listener)
  }
}

/** Any pattern: testing it reads the whole subject, flat. */
const FLATTEN = /\r\n\r\n$/

/** A sink for an HTTP/1 response (see {@link Http1Sink}). */
export function http1Sink(res: ServerResponse): Http1Sink {
  return new Http1Sink(res)
}
