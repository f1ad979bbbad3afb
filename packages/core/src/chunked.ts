import { Buffer } from 'node:buffer'

// HTTP/1.1 chunked framing for frames written straight to a socket, past the response.

const CRLF = Buffer.from('\r\n', 'latin1')

// The chunked framing of each broadcast frame, made once and shared by every socket it goes to
// (the hub hands every subscriber the same bytes object).
const framed = new WeakMap<Uint8Array, Buffer>()

// A broadcast writes the same bytes to every subscriber in a row: remember the last one, so
// the loop does not even hash it.
let lastBytes: Uint8Array | undefined
let lastFramed: Buffer | undefined

export function frameBytes(bytes: Uint8Array): Buffer {
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

export function frameText(text: string): string {
  return `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`
}

export const byteLength = (chunk: string | Uint8Array) =>
  typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength

// A broadcast queues the same frames, in the same order, for every socket it reaches in a turn:
// the last join serves the next socket too, so one turn copies its frames once, not per socket.
let lastParts: readonly (string | Uint8Array)[] = []
let lastChunked = false
let lastJoined: Buffer | undefined

/**
 * Copies queued frames into one buffer, inside one chunk of chunked framing if asked, or hands
 * back the previous call's buffer when the frames are the same ones.
 */
export function joinFrames(
  parts: (string | Uint8Array)[],
  bytes: number,
  chunked: boolean,
): Buffer {
  if (lastJoined && chunked === lastChunked && sameFrames(parts, lastParts)) return lastJoined
  lastJoined = copyFrames(parts, bytes, chunked)
  lastParts = parts
  lastChunked = chunked
  return lastJoined
}

function sameFrames(a: readonly (string | Uint8Array)[], b: readonly (string | Uint8Array)[]) {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function copyFrames(parts: (string | Uint8Array)[], bytes: number, chunked: boolean): Buffer {
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
