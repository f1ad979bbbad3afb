import { connect } from 'node:net'

/** A response read off a raw socket. */
export interface RawExchange {
  /** The status code, or 0 when the server closed without answering. */
  status: number
  /** Response headers, lower-cased names (the last value wins). */
  headers: Record<string, string>
  /** The body so far, de-chunked, as latin1 text (enough for ASCII checks). */
  body: string
  /** True when the server closed the connection. */
  closedByServer: boolean
}

function dechunk(raw: string): string {
  let out = ''
  let at = 0
  for (;;) {
    const eol = raw.indexOf('\r\n', at)
    if (eol === -1) return out
    const size = Number.parseInt(raw.slice(at, eol), 16)
    if (!Number.isFinite(size) || size === 0) return out
    out += raw.slice(eol + 2, eol + 2 + size)
    at = eol + 2 + size + 2
    if (at > raw.length) return out
  }
}

/**
 * Sends raw bytes (anything a hostile client could send, including what node:http's client
 * refuses to) and reads the answer: until the server closes, the body is complete, or, for an
 * open stream, the body contains `until` (or, with `headOnly`, once the head is in). Never throws for the server's behaviour; rejects only
 * when nothing at all happened within `timeout`.
 */
export function exchange(
  port: number,
  request: string | Buffer,
  options: { until?: string; timeout?: number; headOnly?: boolean } = {},
): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let text = ''
    let settled = false
    const finish = (closedByServer: boolean) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      const headEnd = text.indexOf('\r\n\r\n')
      const head = headEnd === -1 ? text : text.slice(0, headEnd)
      const [statusLine = '', ...lines] = head.split('\r\n')
      const headers: Record<string, string> = {}
      for (const line of lines) {
        const colon = line.indexOf(':')
        if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
      }
      const rawBody = headEnd === -1 ? '' : text.slice(headEnd + 4)
      resolve({
        status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0),
        headers,
        body: headers['transfer-encoding'] === 'chunked' ? dechunk(rawBody) : rawBody,
        closedByServer,
      })
      socket.destroy()
    }
    const timer = setTimeout(() => {
      if (text === '') {
        settled = true
        socket.destroy()
        reject(new Error(`no answer within ${options.timeout ?? 10_000} ms`))
      } else finish(false)
    }, options.timeout ?? 10_000)
    socket.on('error', () => finish(true))
    socket.on('close', () => finish(true))
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1')
      const headEnd = text.indexOf('\r\n\r\n')
      if (headEnd === -1) return
      if (options.headOnly) return finish(false)
      const head = text.slice(0, headEnd).toLowerCase()
      const body = text.slice(headEnd + 4)
      const length = /\r\ncontent-length: *(\d+)/.exec(head)?.[1]
      if (length !== undefined && Buffer.byteLength(body, 'latin1') >= Number(length)) {
        finish(false)
      } else if (head.includes('transfer-encoding: chunked') && body.includes('0\r\n\r\n')) {
        finish(false)
      } else if (head.includes('text/event-stream')) {
        const plain = head.includes('transfer-encoding: chunked') ? dechunk(body) : body
        if (plain.includes(options.until ?? '\n\n')) finish(false)
      }
    })
    socket.write(request)
  })
}

/** A GET request for `path` with extra raw header lines (each without its CRLF). */
export function getRequest(path: string, ...headerLines: (string | Buffer)[]): Buffer {
  return Buffer.concat([
    Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n`),
    ...headerLines.flatMap((line) => [Buffer.from(line), Buffer.from('\r\n')]),
    Buffer.from('\r\n'),
  ])
}
