import { type ClientRequest, type IncomingHttpHeaders, request } from 'node:http'
import { EventSource, type FetchLike, type FetchLikeResponse } from 'eventsource'

/**
 * A `fetch` for the `eventsource` client over node:http, one connection per request, that
 * remembers the request of the connection in use so a test can destroy its socket: the client
 * then sees a network error (not an abort) and reconnects with `Last-Event-ID`, as a browser
 * does when a connection drops.
 */
export class CuttableFetch {
  /** Every request made, with its `Last-Event-ID`. */
  readonly requests: { lastEventId: string | undefined; at: number }[] = []
  #current: ClientRequest | undefined

  /** True while a response body is being read. */
  get connected(): boolean {
    return this.#current !== undefined
  }

  /** Destroys the socket of the connection in use; false when there is none. */
  cut(): boolean {
    const current = this.#current
    if (!current) return false
    this.#current = undefined
    current.destroy()
    return true
  }

  readonly fetch: FetchLike = (url, init) =>
    new Promise<FetchLikeResponse>((resolve, reject) => {
      const headers = { ...init.headers }
      this.requests.push({ lastEventId: headers['Last-Event-ID'], at: Date.now() })
      const req = request(url, { agent: false, headers })
      const drop = () => req.destroy()
      if (init.signal?.aborted) drop()
      else init.signal?.addEventListener?.('abort', drop, { once: true })
      req.once('error', reject)
      req.once('response', (res) => {
        req.off('error', reject)
        req.on('error', () => {})
        this.#current = req
        let done = false
        const finish = () => {
          if (this.#current === req) this.#current = undefined
        }
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            res.on('data', (chunk: Buffer) => {
              if (!done) controller.enqueue(new Uint8Array(chunk))
            })
            res.on('end', () => {
              finish()
              if (done) return
              done = true
              controller.close()
            })
            res.on('close', () => {
              finish()
              if (done) return
              done = true
              // Closed before the last chunk: a network error for the client, which reconnects.
              controller.error(new Error('connection lost'))
            })
            res.on('error', () => {})
          },
          cancel() {
            done = true
            finish()
            req.destroy()
          },
        })
        resolve({
          body,
          url: String(url),
          status: res.statusCode ?? 0,
          redirected: false,
          headers: { get: (name) => header(res.headers, name) },
        })
      })
      req.end()
    })
}

function header(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name.toLowerCase()]
  return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value
}

/** An `eventsource` client over a {@link CuttableFetch}, recording what it receives. */
export class ChaosClient {
  readonly transport = new CuttableFetch()
  readonly source: EventSource
  readonly data: string[] = []
  opens = 0
  errors = 0

  constructor(url: string) {
    this.source = new EventSource(url, { fetch: this.transport.fetch })
    this.source.addEventListener('open', () => {
      this.opens++
    })
    this.source.addEventListener('error', () => {
      this.errors++
    })
    this.source.addEventListener('message', (event: MessageEvent<string>) => {
      this.data.push(event.data)
    })
  }

  close(): void {
    this.source.close()
    this.transport.cut()
  }
}

/** A raw HTTP/1.1 response read over node:http: head, decoded body, and how it ended. */
export interface RawResponse {
  status: number
  headers: IncomingHttpHeaders
  body: string
  /** True once the response is over (ended or dropped). */
  closed: boolean
  /** Resolves once the response is over. */
  done: Promise<void>
  close(): void
}

/** Sends a request on its own connection and resolves once the response head arrived. */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; timeout?: number } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      agent: false,
      method: options.method ?? 'GET',
      headers: options.headers ?? { accept: 'text/event-stream' },
    })
    const timer = setTimeout(() => {
      req.destroy()
      reject(new Error(`no response head within ${options.timeout ?? 10_000} ms`))
    }, options.timeout ?? 10_000)
    req.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    req.once('response', (res) => {
      clearTimeout(timer)
      req.on('error', () => {})
      res.on('error', () => {})
      res.setEncoding('utf8')
      let resolveDone!: () => void
      const out: RawResponse = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: '',
        closed: false,
        done: new Promise<void>((r) => {
          resolveDone = r
        }),
        close: () => req.destroy(),
      }
      res.on('data', (chunk: string) => {
        out.body += chunk
      })
      res.on('close', () => {
        out.closed = true
        resolveDone()
      })
      resolve(out)
    })
    req.end()
  })
}
