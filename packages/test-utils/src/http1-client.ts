import { Agent, type ClientRequest, type IncomingMessage, request } from 'node:http'
import { ReadingClient } from './reading-client'
import type { OpenStreamOptions, StreamClient } from './stream-client'

/**
 * Opens a request over node:http (HTTP/1.1, keep-alive as a browser sends it) and resolves with
 * a {@link StreamClient} once the response head arrived.
 */
export function openHttp1Stream(
  baseUrl: string,
  options: OpenStreamOptions = {},
): Promise<StreamClient> {
  // One agent per client so that close() can drop exactly this connection.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const req = request(`${baseUrl}${options.path ?? '/events'}`, {
    agent,
    method: options.method ?? 'GET',
    headers: { accept: 'text/event-stream', ...options.headers },
  })
  return new Promise<StreamClient>((resolve, reject) => {
    const timer = setTimeout(() => {
      req.destroy()
      agent.destroy()
      reject(new Error(`No response head within ${options.timeout ?? 5000} ms`))
    }, options.timeout ?? 5000)
    req.once('error', (error) => {
      clearTimeout(timer)
      agent.destroy()
      reject(error)
    })
    req.once('response', (res) => {
      clearTimeout(timer)
      // After the head, a reset is an outcome the tests look at (closed without ended), not an error.
      req.removeAllListeners('error')
      req.on('error', () => {})
      resolve(new Http1StreamClient(req, res, agent))
    })
    req.end()
  })
}

class Http1StreamClient extends ReadingClient {
  readonly #req: ClientRequest
  readonly #res: IncomingMessage
  readonly #agent: Agent

  constructor(req: ClientRequest, res: IncomingMessage, agent: Agent) {
    super(res.statusCode ?? 0, res.headers)
    this.#req = req
    this.#res = res
    this.#agent = agent
    res.on('data', (chunk: Buffer) => this.reader.push(chunk))
    res.on('end', () => {
      if (res.complete) this.ended = true
    })
    res.on('error', () => {})
    res.on('close', () => {
      this.closed = true
      agent.destroy()
    })
  }

  pause() {
    this.#res.pause()
    this.#res.socket?.pause()
  }
  resume() {
    this.#res.socket?.resume()
    this.#res.resume()
  }
  close() {
    this.#res.destroy()
    this.#req.destroy()
    this.#agent.destroy()
  }
}
