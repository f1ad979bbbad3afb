import { serve } from '@hono/node-server'
import { serveStatic } from '@hono/node-server/serve-static'
import * as demo from '@sse/example-shared'
import { closeStreams, sse, sseMiddleware } from '@sse/hono'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import { validator } from 'hono/validator'

const { hub, chats, close } = demo.createDemoHub()
const app = new Hono()
const limit = bodyLimit({
  maxSize: 64 * 1024,
  onError: (c) => c.json({ error: 'the body is over 64 KiB' }, 413),
})

app.get('/events', sseMiddleware({ hub }))

app.post(
  '/notify',
  limit,
  validator('json', (body, c) => {
    const text = demo.textOf(body)
    return text === undefined ? c.json({ error: demo.invalidText }, 400) : { text }
  }),
  async (c) => {
    const { text } = c.req.valid('json')
    await hub.publish('notification', { text, time: new Date().toISOString() })
    return c.json({ ok: true }, 202)
  },
)

// The chat: an answer runs detached and is stored part by part, so a reload reads it again at
// the location its first response names (SSE-Resume).
app.post(
  '/chat',
  limit,
  validator('json', (body, c) => {
    const prompt = demo.promptOf(body)
    return prompt === undefined ? c.json({ error: demo.missingPrompt }, 400) : { prompt }
  }),
  async (c) => {
    const run = await demo.startChat(
      chats,
      c.req.valid('json').prompt,
      c.req.header('idempotency-key'),
    )
    return sse<demo.ChatParts>(c, undefined, { durable: run })
  },
)
app.get('/chat/:id', (c) =>
  sse<demo.ChatParts>(c, undefined, { durable: chats.chats.get(c.req.param('id')) }),
)
app.delete('/chat/:id', async (c) =>
  (await chats.chats.cancel(c.req.param('id')))
    ? c.body(null, 204)
    : c.json({ error: demo.noSuchChat }, 404),
)

app.use('/*', serveStatic({ root: demo.pageDir }))

// hono/validator throws a 400 HTTPException on a body that is not valid JSON.
app.onError((error, c) => {
  if (error instanceof HTTPException) return c.json({ error: error.message }, error.status)
  console.error(error)
  return c.json({ error: 'internal error' }, 500)
})

const server = serve(
  { fetch: app.fetch, port: demo.settings.port, hostname: demo.settings.host },
  (info) => demo.logListening(info),
)

// Ctrl+C: stop the ticks and end every open stream, /events and /chat alike (pages reconnect and
// resume once the server is back), then close.
demo.onShutdown(async () => {
  await Promise.all([close(), closeStreams({ server, grace: demo.shutdownGrace })])
  server.close()
})
