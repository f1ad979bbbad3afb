import { type IncomingHttpHeaders, request } from 'node:http'
import { connect, constants } from 'node:http2'

/** A stream read with a real client: status, headers, and the body text as it arrives. */
export interface Reader {
  status: number
  headers: IncomingHttpHeaders
  readonly text: string
  /** True once the server ended the response. */
  readonly ended: boolean
  /** Resolves once the body so far satisfies `test`; rejects after `timeout` ms. */
  waitFor(test: (text: string) => boolean, timeout?: number): Promise<string>
  /** Waits for the response to end. */
  waitEnd(timeout?: number): Promise<string>
  /** Drops the connection, as a client that leaves. */
  close(): void
}

function poller(state: { text: string; ended: boolean }) {
  const waiters = new Set<() => void>()
  const wake = () => {
    for (const waiter of waiters) waiter()
  }
  const waitFor = (test: (text: string) => boolean, timeout = 5000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        if (!test(state.text)) return
        cleanup()
        resolve(state.text)
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`timed out; body so far: ${JSON.stringify(state.text)}`))
      }, timeout)
      const cleanup = () => {
        clearTimeout(timer)
        waiters.delete(check)
      }
      waiters.add(check)
      check()
    })
  return { wake, waitFor }
}

/** GETs `url` over HTTP/1.1 and resolves once the response head arrived. */
export function get(url: string, headers: Record<string, string> = {}): Promise<Reader> {
  return new Promise((resolve, reject) => {
    const state = { text: '', ended: false }
    const { wake, waitFor } = poller(state)
    const req = request(url, { headers, agent: false }, (res) => {
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        state.text += chunk
        wake()
      })
      res.on('end', () => {
        state.ended = true
        wake()
      })
      res.on('error', () => {})
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        get text() {
          return state.text
        },
        get ended() {
          return state.ended
        },
        waitFor,
        waitEnd: (timeout) => waitFor(() => state.ended, timeout),
        close: () => req.destroy(),
      })
    })
    req.on('error', reject)
    req.end()
  })
}

/** GETs `path` over h2c (HTTP/2 without TLS) and resolves once the response head arrived. */
export function get2(
  origin: string,
  path: string,
): Promise<Omit<Reader, 'headers'> & { headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const state = { text: '', ended: false }
    const { wake, waitFor } = poller(state)
    const session = connect(origin)
    session.on('error', reject)
    const stream = session.request({ [constants.HTTP2_HEADER_PATH]: path })
    stream.setEncoding('utf8')
    stream.on('response', (headers) => {
      resolve({
        status: Number(headers[':status']),
        headers,
        get text() {
          return state.text
        },
        get ended() {
          return state.ended
        },
        waitFor,
        waitEnd: (timeout) => waitFor(() => state.ended, timeout),
        close: () => session.destroy(),
      })
    })
    stream.on('data', (chunk: string) => {
      state.text += chunk
      wake()
    })
    stream.on('end', () => {
      state.ended = true
      wake()
      session.close()
    })
    stream.on('error', reject)
  })
}

/** Resolves once `test()` is true, checking every 10 ms; rejects after `timeout` ms. */
export async function until(test: () => boolean, timeout = 5000): Promise<void> {
  const start = Date.now()
  while (!test()) {
    if (Date.now() - start > timeout) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
