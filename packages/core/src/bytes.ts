/** UTF-8 bytes of a frame. On Node this is a Buffer, elsewhere a plain Uint8Array. */
export type Bytes = Uint8Array

interface BufferLike {
  from(text: string, encoding: 'utf8'): Uint8Array
}

// Buffer.from is several times faster than TextEncoder for the short strings SSE frames are
// (architecture.md, technique 1). Reached through globalThis so this file has no `node:` import
// and the main entry stays runtime-neutral; Bun and Deno provide a Buffer too.
const NodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer
const encoder = new TextEncoder()

/**
 * UTF-8 encodes text without a BOM; lone surrogates become U+FFFD as the WHATWG encoder does
 * (C13).
 */
export const toBytes: (text: string) => Bytes = NodeBuffer
  ? (text) => NodeBuffer.from(text, 'utf8')
  : (text) => encoder.encode(text)
