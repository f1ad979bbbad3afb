import { createParser, type EventSourceMessage } from 'eventsource-parser'

/** What {@link readEvents} reports while it reads. */
export interface ReadCallbacks {
  /** A chunk of bytes arrived (events, comments or a partial line). */
  onBytes(): void
  /** The server sent `retry:` with ASCII digits (other values are ignored by the parser). */
  onRetry(ms: number): void
  /** A whole event (ended by a blank line, with at least one `data:` line). */
  onMessage(message: EventSourceMessage): void
  /** After each chunk: a promise to wait on before reading more (a reader behind), if any. */
  backlog(): Promise<void> | undefined
}

/**
 * Reads an event stream body to its end through `eventsource-parser`, decoding UTF-8 across
 * chunk boundaries (TextDecoder drops a leading BOM). An event not ended by a blank line when
 * the body ends is dropped, as the standard says. Rejects when the body errors (the request was
 * aborted, the connection cut). While `backlog` says to wait, the body is not read: the bytes
 * stay in the connection, and the server's flow control sees a slow reader.
 */
export async function readEvents(
  body: ReadableStream<Uint8Array>,
  callbacks: ReadCallbacks,
): Promise<void> {
  const decoder = new TextDecoder()
  const parser = createParser({ onEvent: callbacks.onMessage, onRetry: callbacks.onRetry })
  const reader = body.getReader()
  let done = false
  try {
    while (!done) {
      const chunk = await reader.read()
      done = chunk.done
      if (chunk.value !== undefined) {
        callbacks.onBytes()
        parser.feed(decoder.decode(chunk.value, { stream: true }))
        const backlog = callbacks.backlog()
        if (backlog) await backlog
      }
    }
    parser.feed(decoder.decode())
  } finally {
    if (!done) reader.cancel().catch(() => {})
  }
}
