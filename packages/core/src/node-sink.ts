import { ServerResponse as NodeServerResponse, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { byteLength, frameBytes, frameText, joinFrames } from './chunked'
import type { ConnectionEvents, Sink } from './connection'

// Sinks with frames queued in this turn of the event loop; one setImmediate flushes them all.
// Two sets take turns: a sink that writes again while it is flushed (a drain's listener) joins
// the next flush instead of a set about to be cleared.
let dirty = new Set<Http1Sink>()
let flushing = new Set<Http1Sink>()
let flushScheduled = false

function flushAll(): void {
  flushScheduled = false
  const sinks = dirty
  dirty = flushing
  flushing = sinks
  for (const sink of sinks) sink.flush()
  sinks.clear()
}

// Which turn of the event loop it is, as far as sinks need to tell turns apart: one setImmediate
// per turn that wrote anything moves it on.
let turn = 0
let turnEnding = false

function endTurn(): void {
  turn++
  turnEnding = false
}

function scheduleFlush(sink: Http1Sink): void {
  dirty.add(sink)
  if (!flushScheduled) {
    flushScheduled = true
    setImmediate(flushAll)
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
  /** The turn this sink last wrote in, and how many frames it wrote then. */
  #turn = -1
  #writes = 0
  #queue: (string | Uint8Array)[] = []
  #queued = 0

  constructor(res: ServerResponse) {
    this.#res = res
    this.#plain = res.write === NodeServerResponse.prototype.write
  }

  /**
   * Tells `events` when the response closes and when its bytes drain. With `coalesce`, the frames
   * a turn of the event loop writes after its first go out together at the end of the turn, in
   * one socket write (architecture.md, technique 2): each write costs about 6 µs of kernel time,
   * so k events per write divide that by k, for a little latency (under a turn). A sink that
   * wrote more than one frame in its previous busy turn queues from the first frame on; one that
   * wrote one (a few events per second) writes straight away and pays one comparison.
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
    if (socket && this.#coalescing && this.#waits()) {
      if (this.#queue.length === 0) scheduleFlush(this)
      this.#queue.push(chunk)
      this.#queued += byteLength(chunk)
      const limit = socket.writableHighWaterMark
      if (socket.writableLength + this.#queued < limit) return true
      // A turn's frames that fill a buffer's worth go now: held to the end of the turn, a burst
      // (a producer sending from promise callbacks) would pile up here, counted against a
      // client whose kernel buffer may be empty, and end it as a slow consumer.
      const ok = this.#queued >= limit ? this.#send() : false
      if (!ok) this.#hearDrain()
      return ok
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
    // A write() that reported backpressure may have counted only our own queue: the socket took
    // it all, so it will emit no 'drain', and whoever waits for one must hear it now.
    if (this.#send()) this.drained()
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

  /** Writes the queued frames to the socket in one write; false when it reports backpressure. */
  #send(): boolean {
    const parts = this.#queue
    const bytes = this.#queued
    this.#queue = []
    this.#queued = 0
    const socket = this.#socket
    if (!socket || socket.destroyed) return true
    const chunked = this.#chunked
    const [only] = parts
    // A lone frame needs no copy: a broadcast's shared framing serves every socket as it is.
    return parts.length > 1
      ? socket.write(joinFrames(parts, bytes, chunked))
      : typeof only === 'string'
        ? socket.write(chunked ? frameText(only) : only)
        : socket.write(chunked ? frameBytes(only!) : only!)
  }

  /** Whether a frame written now waits for the end of the turn (see {@link attach}). */
  #waits(): boolean {
    if (this.#turn === turn) {
      this.#writes++
      return true
    }
    const busy = this.#writes > 1
    this.#turn = turn
    this.#writes = 1
    if (!turnEnding) {
      turnEnding = true
      setImmediate(endTurn)
    }
    // Frames still queued from the previous turn (its flush has not run yet) go first.
    return busy || this.#queue.length > 0
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
    // Node corks the socket on a response's first write until the next tick, to send the head
    // with the first chunk. Frames written past the response would wait there too, and promise
    // callbacks all run before that tick: a burst from them would pile up in the cork.
    if (s.writableCorked) s.uncork()
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
