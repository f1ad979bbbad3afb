import { type ClientRequest, type IncomingHttpHeaders, request } from 'node:http'
import { EventSource } from 'eventsource'

/** What {@link CuttableFetch} takes of a request: `fetch`'s init, as both clients pass it. */
interface CuttableInit {
  method?: string
  headers?: HeadersInit
  body?: RequestInit['body']
  signal?: AbortSignal | null
}

/**
 * A `fetch` over node:http, one connection per request, for the `eventsource` client and
 * `@sse/client`, that remembers the connection in use so a test can destroy its socket: the
 * client then sees a network error (not an abort) and reconnects with `Last-Event-ID`, as a
 * browser does when a connection drops. `route` picks the server of each request, as a load
 * balancer does (the URL the client asked for by default).
 */
export class CuttableFetch {
  /** Every request made: its method, where it went, and its `Last-Event-ID`. */
  readonly requests: {
    method: string
    url: string
    lastEventId: string | undefined
    at: number
  }[] = []
  readonly #route: (url: string, method: string) => string
  #current: ClientRequest | undefined

  constructor(route: (url: string, method: string) => string = (url) => url) {
    this.#route = route
  }

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

  readonly fetch = (input: string | URL, init: CuttableInit = {}): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      const headers = Object.fromEntries(new Headers(init.headers))
      const method = init.method ?? 'GET'
      const url = this.#route(String(input), method)
      this.requests.push({ method, url, lastEventId: headers['last-event-id'], at: Date.now() })
      const req = request(url, { agent: false, method, headers })
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
        const status = res.statusCode ?? 0
        const response = new Response(status === 204 || status === 304 ? null : body, {
          status,
          headers: Object.entries(res.headers).map(([name, value]): [string, string] => [
            name,
            Array.isArray(value) ? value.join(', ') : (value ?? ''),
          ]),
        })
        // A Response made here has no URL; the clients resolve locations against it.
        Object.defineProperty(response, 'url', { value: url })
        resolve(response)
      })
      req.end(typeof init.body === 'string' ? init.body : undefined)
    })
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
