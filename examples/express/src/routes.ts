import type { Hub } from '@sse/core'
import * as demo from '@sse/example-shared'
import { sse } from '@sse/express'
import express, { type ErrorRequestHandler } from 'express'

/**
 * The demo on Express: `GET /events` on `hub`, `POST /notify`, the chat (`POST /chat`,
 * `GET` and `DELETE /chat/:id`) on `chats`, and the page. Mount it with `app.use()`, then
 * {@link jsonErrors}.
 */
export function demoRoutes(hub: Hub<demo.Events>, chats: demo.DemoChats): express.Router {
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

  // The chat: an answer runs detached and is stored part by part, so a reload or another
  // instance reads it again at the location its first response names (SSE-Resume).
  router.post(
    '/chat',
    json,
    (req, res, next) => {
      if (demo.promptOf(req.body) === undefined) res.status(400).json({ error: demo.missingPrompt })
      else next()
    },
    sse<demo.ChatParts>(async (req) => ({
      durable: await demo.startChat(chats, demo.promptOf(req.body)!, req.get('idempotency-key')),
    })),
  )
  router.get(
    '/chat/:id',
    sse<demo.ChatParts>((req) => ({ durable: chats.chats.get(req.params.id as string) })),
  )
  router.delete('/chat/:id', async (req, res) => {
    if (await chats.chats.cancel(req.params.id)) res.status(204).end()
    else res.status(404).json({ error: demo.noSuchChat })
  })

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
