import type { Http2ServerResponse } from 'node:http2'
import type { Sink } from './connection'

// node:http2's constants.NGHTTP2_CANCEL.
const NGHTTP2_CANCEL = 0x8

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
