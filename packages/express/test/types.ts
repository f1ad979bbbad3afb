/**
 * Type tests, checked by `tsc --noEmit` (typecheck): each `@ts-expect-error` fails the check if
 * the line it guards stops being an error.
 */
import type { SseStream } from '@sse/core'
import { createHub } from '@sse/core'
import express, { type RequestHandler, type Response } from 'express'
import { type SseHandler, type SseResponse, sse } from '../src/index'

type Events = { tick: { n: number }; note: string }
const hub = createHub<Events>()
const app = express()
const auth: RequestHandler = (_req, _res, next) => next()
const takesResponse = (res: Response) => res.headersSent

app.get('/events/:room', auth, sse<Events>({ hub, topics: ['news'] }), (req, res) => {
  res.sse.send('tick', { n: 1 })
  res.locals.sse.send('note', 'hello')
  // @ts-expect-error the data of 'tick' is { n: number }
  res.sse.send('tick', { n: 'one' })
  // @ts-expect-error 'tock' is not an event of Events
  res.sse.send('tock', 1)
  // Route params are Express's ParamsDictionary behind the middleware (see README).
  const room = String(req.params.room)
  takesResponse(res)
  res.setHeader('X-Room', room)
})

app.get(
  '/me',
  sse<Events>(
    (req) => ({ hub, key: req.get('x-user-id') }),
    async (_req, res) => {
      res.sse.send('note', 'typed in the handler form too')
    },
  ),
)

const apart: SseHandler<Events> = (_req, res) => {
  const session: SseStream<Events> = res.sse
  session.send('tick', { n: 2 })
}
app.get('/apart', sse<Events>(), apart)

const annotated = (res: SseResponse<Events>) => res.sse.send('note', 'x')
void annotated

app.get('/plain', (_req, res) => {
  // @ts-expect-error without the middleware, res.sse may be undefined
  res.sse.send('note', 'x')
  res.sse?.comment('may be undefined')
})

// @ts-expect-error options are checked
sse<Events>({ heartbeat: 'often' })
