import type { Hub } from '@sse/core'
import * as demo from '@sse/example-shared'
import { sse } from '@sse/express'
import express, { type ErrorRequestHandler, type Request, type RequestHandler } from 'express'

/**
 * The demo on Express: `GET /events` on `hub`, `POST /notify`, `GET` and `POST /chat`, and the
 * page. Mount it with `app.use()`, then {@link jsonErrors}.
 */
export function demoRoutes(hub: Hub<demo.Events>): express.Router {
  const router = express.Router()
  const json = express.json({ limit: '64kb' })

  router.get('/events', sse({ hub }))

  router.post('/notify', json, async (req, res) => {
    const text = demo.textOf(req.body)
    if (text === undefined) {
      res.status(400).json({ error: demo.invalidText })
      return
    }
    await hub.publish('notification', { text, time: new Date().toISOString() })
    res.status(202).json({ ok: true })
  })

  const prompt = (req: Request) =>
    demo.promptOf(req.method === 'POST' ? req.body?.prompt : req.query.prompt)
  const requirePrompt: RequestHandler = (req, res, next) => {
    if (prompt(req) === undefined) res.status(400).json({ error: demo.missingPrompt })
    else next()
  }
  // A stream of its own, outside the hub: it ends once the answer is done.
  const streamAnswer = sse<demo.ChatEvents>({}, (req, res) =>
    res.sse.pipe(demo.answer(prompt(req)!)),
  )
  router.get('/chat', requirePrompt, streamAnswer)
  router.post('/chat', json, requirePrompt, streamAnswer)

  router.use(express.static(demo.pageDir))
  return router
}

/**
 * Errors as `{"error": message}`. express.json() fails with 400 on invalid JSON and 413 on a body
 * over the limit.
 */
export const jsonErrors: ErrorRequestHandler = (error, _req, res, next) => {
  if (res.headersSent) return next(error)
  const status = error.status ?? 500
  res.status(status).json({ error: status < 500 ? error.message : 'internal error' })
}
