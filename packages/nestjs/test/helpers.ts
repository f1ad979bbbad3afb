import { CURSOR_EVENT } from '@sse/core'
import 'reflect-metadata'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { INestApplication, Type } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import { ExpressAdapter } from '@nestjs/platform-express'
import { FastifyAdapter } from '@nestjs/platform-fastify'

export const platforms = ['express', 'fastify'] as const
export type Platform = (typeof platforms)[number]

export interface App {
  app: INestApplication
  url: string
  close(): Promise<void>
}

/** Starts a Nest application on 127.0.0.1, port 0, under the given platform. */
export async function startApp(
  platform: Platform,
  module: Type<unknown>,
  setup?: (app: INestApplication) => void,
): Promise<App> {
  const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter()
  const app = await NestFactory.create(module, adapter, {
    logger: process.env.NEST_LOG ? undefined : false,
  })
  setup?.(app)
  await app.listen(0, '127.0.0.1')
  const { port } = app.getHttpServer().address() as AddressInfo
  return { app, url: `http://127.0.0.1:${port}`, close: () => app.close() }
}

/** A raw HTTP/1.1 request whose response body is collected as it arrives. */
export interface RawResponse {
  status: number
  headers: IncomingHttpHeaders
  /** Everything received so far. */
  readonly text: string
  /** True once the server ended the response. */
  readonly ended: boolean
  /** Resolves when the server ended the response. */
  end: Promise<void>
  /** Drops the connection, as a client that goes away. */
  destroy(): void
}

/** A request to send: its method, headers and body. */
export interface Send {
  method?: string
  headers?: Record<string, string>
  /** Sent as JSON (with its content type) unless it is a string. */
  body?: unknown
}

export function get(url: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return send(url, { headers })
}

/** POSTs `body` as JSON (or as it is, when a string). */
export function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return send(url, { method: 'POST', body, headers })
}

export function send(
  url: string,
  { method = 'GET', headers = {}, body }: Send,
): Promise<RawResponse> {
  const payload = body === undefined || typeof body === 'string' ? body : JSON.stringify(body)
  if (payload !== undefined) headers = { 'content-type': 'application/json', ...headers }
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      let text = ''
      let ended = false
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        text += chunk
      })
      const end = new Promise<void>((done) => {
        res.on('end', () => {
          ended = true
          done()
        })
        res.on('close', () => done())
      })
      res.on('error', () => {})
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        get text() {
          return text
        },
        get ended() {
          return ended
        },
        end,
        destroy: () => req.destroy(),
      })
    })
    req.on('error', reject)
    req.end(payload)
  })
}

/** Polls `check` until it holds; fails after `timeout` ms with `what` in the message. */
export async function waitFor<T>(
  what: string,
  check: () => T | false | undefined | null,
  timeout = 5000,
): Promise<T> {
  const deadline = Date.now() + timeout
  for (;;) {
    const value = check()
    if (value !== false && value !== undefined && value !== null) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** The events in a stream's text: one record of its fields per event (comments left out). */
export function events(text: string): Record<string, string>[] {
  return (
    text
      .split('\n\n')
      .slice(0, -1)
      .map((block) => {
        const fields: Record<string, string> = {}
        for (const line of block.split('\n')) {
          if (line === '' || line.startsWith(':')) continue
          const colon = line.indexOf(':')
          const name = line.slice(0, colon)
          const value = line.slice(colon + 2)
          fields[name] = fields[name] === undefined ? value : `${fields[name]}\n${value}`
        }
        return fields
      })
      // A hub stream's cursor (C34) is checked by the conformance suite, not counted here.
      .filter((fields) => fields.data !== undefined && fields.event !== CURSOR_EVENT)
  )
}

/** The major versions of the Nest packages this module graph loaded (test/nest11-plugin.ts). */
export async function nestVersions() {
  type Json = { default: { version: string } }
  const major = (json: Json) => Number(json.default.version.split('.')[0])
  const [common, core, platformExpress, platformFastify] = await Promise.all([
    import('@nestjs/common/package.json', { with: { type: 'json' } }),
    import('@nestjs/core/package.json', { with: { type: 'json' } }),
    import('@nestjs/platform-express/package.json', { with: { type: 'json' } }),
    import('@nestjs/platform-fastify/package.json', { with: { type: 'json' } }),
  ])
  return {
    common: major(common),
    core: major(core),
    platformExpress: major(platformExpress),
    platformFastify: major(platformFastify),
  }
}

/** "Nest 12" or "Nest 11", for the names of suites that run on both. */
export const nest = `Nest ${(await nestVersions()).core}`
