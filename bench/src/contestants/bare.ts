import type { ServerResponse } from 'node:http'

/** The head every bare reference sends, as the SSE libraries do. */
export const HEAD_FIELDS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
}

/** Keeps a response whose head is written among `streams` until it closes. */
export function holdOpen(streams: Set<ServerResponse>, res: ServerResponse): void {
  res.socket?.setNoDelay(true)
  res.write('retry: 3000\n\n')
  streams.add(res)
  res.once('close', () => streams.delete(res))
}
