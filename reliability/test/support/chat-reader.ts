import { connect, type EventStream } from '@sse/client'
import { CuttableFetch } from './clients'

/** The events of a durable chat answer, all read as text. */
type Answer = { token: string; done: string; error: string }

/**
 * A chat page reading one durable answer with `@sse/client`, as the examples' pages do: it POSTs
 * the prompt once (with an idempotency key), keeps the `SSE-Resume` location and its cursor, and
 * can be cut (its socket destroyed: the client resumes by itself) or reloaded (the client thrown
 * away; a new one resumes from the kept location and cursor, as a reloaded page does).
 */
export class ChatReader {
  readonly transport: CuttableFetch
  /** The `token` data received, in order, across every connection and reload. */
  readonly tokens: string[] = []
  /** The terminal event, once one arrived. */
  terminal: { event: 'done' | 'error'; data: string } | undefined
  /** The `SSE-Resume` location, once the POST's headers arrived. */
  location: string | undefined
  reloads = 0
  readonly #origin: string
  readonly #headers: Record<string, string>
  #stream: EventStream<Answer>
  #settle!: () => void
  /** Resolves once the terminal event arrived. */
  readonly ended = new Promise<void>((resolve) => {
    this.#settle = resolve
  })

  /**
   * @param start - the URL the prompt is POSTed to
   * @param route - where each request goes (a load balancer), from its URL and method
   */
  constructor(
    start: string,
    user: string,
    key: string,
    route?: (url: string, method: string) => string,
  ) {
    this.transport = new CuttableFetch(route)
    this.#origin = new URL(start).origin
    this.#headers = { 'x-user': user, 'idempotency-key': key }
    this.#stream = this.#open(start, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"prompt":"hi"}',
    })
  }

  /** How many times the prompt was POSTed (a page must do it once). */
  get posts(): number {
    return this.transport.requests.filter((r) => r.method === 'POST').length
  }

  /** Destroys the socket in use; false when not connected or already ended. */
  cut(): boolean {
    return this.terminal === undefined && this.transport.cut()
  }

  /** Reloads the page; false before the location is known or once ended. */
  reload(): boolean {
    if (this.location === undefined || this.terminal !== undefined) return false
    const lastEventId = this.#stream.lastEventId
    this.#stream.close()
    this.transport.cut()
    this.#stream = this.#open(new URL(this.location, this.#origin).href, { lastEventId })
    this.reloads++
    return true
  }

  /** What a failed test shows of a reader. */
  toString(): string {
    const requests = this.transport.requests.map((r) => `${r.method} ${r.lastEventId ?? '-'}`)
    return `${this.tokens.length} tokens, last ${this.tokens.at(-1)}; requests: ${requests.join(', ')}; ${this.closedReason}`
  }

  closedReason = 'open'

  close(): void {
    this.#stream.close()
    this.transport.cut()
  }

  #open(
    url: string,
    init: {
      method?: string
      headers?: Record<string, string>
      body?: string
      lastEventId?: string
    },
  ) {
    const stream = connect<Answer>(url, {
      ...init,
      headers: { ...this.#headers, ...init.headers },
      raw: true,
      minDelay: 20,
      maxDelay: 500,
      stallTimeout: false,
      fetch: async (target, request) => {
        const response = await this.transport.fetch(target, request)
        this.location ??= response.headers.get('sse-resume') ?? undefined
        return response
      },
    })
    void stream.closed.then((reason) => {
      if (stream === this.#stream) this.closedReason = JSON.stringify(reason)
    })
    stream.on('token', (data) => {
      this.tokens.push(data)
    })
    const end = (event: 'done' | 'error') => (data: string) => {
      this.terminal ??= { event, data }
      // The page stops reading once the answer is over, as the examples' pages do.
      stream.close()
      this.#settle()
    }
    stream.on('done', end('done'))
    stream.on('error', end('error'))
    return stream
  }
}

/** How the tokens a reader got differ from `t0`..`t<count-1>`, in that order. */
export function auditTokens(tokens: readonly string[], count: number) {
  const seen = new Set<string>()
  let duplicates = 0
  let outOfOrder = 0
  let previous = -1
  for (const token of tokens) {
    if (seen.has(token)) duplicates++
    seen.add(token)
    const n = Number(token.slice(1))
    if (n <= previous) outOfOrder++
    previous = Math.max(previous, n)
  }
  let missing = 0
  for (let i = 0; i < count; i++) if (!seen.has(`t${i}`)) missing++
  return { duplicates, outOfOrder, missing }
}
