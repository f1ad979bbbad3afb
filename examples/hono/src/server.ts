import { serve } from '@hono/node-server'
import { serveStatic } from '@hono/node-server/serve-static'
import * as demo from '@sse/example-shared'
import { closeStreams, sse, sseMiddleware } from '@sse/hono'
import { type Context, Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import { validator } from 'hono/validator'

const { hub, close } = demo.createDemoHub()
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

function chat(c: Context, value: unknown) {
  const prompt = demo.promptOf(value)
  if (prompt === undefined) return c.json({ error: demo.missingPrompt }, 400)
  // A stream of its own, outside the hub: it ends once the answer is done.
  return sse<demo.ChatEvents>(c, (stream) => stream.pipe(demo.answer(prompt)))
}
app.get('/chat', (c) => chat(c, c.req.query('prompt')))
app.post(
  '/chat',
  limit,
  validator('json', (body: { prompt?: unknown } | null) => body),
  (c) => chat(c, c.req.valid('json')?.prompt),
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
